"""The exception tree of the press assistant.

Every error the library raises on purpose derives from :class:`AssistantError`, and its
message says what to do next. Only the CLI and the web app turn these into output.

::

    AssistantError
     ├── ConfigError            a setting is invalid (bad model path, bad field mapping)
     │    └── OnnxUnavailable   ONNX cannot serve this model here; torch can (backend auto)
     ├── ReadError              one input could not be read; the run skips it and goes on
     │    └── UnsupportedFormat  the file type is not one the readers know
     ├── IndexFolderError       the index folder is missing, locked, or does not fit
     │    ├── IndexNotFound      no index yet at that folder
     │    ├── IndexLocked        another indexing run holds the write lock
     │    ├── IndexReadOnly      an index opened for reading was asked to write
     │    ├── IndexMismatch      built by another embedding model or an older format
     │    └── IndexCorrupt       the stored data failed its integrity check
     ├── QueryError             an empty question, an impossible date range, a question
     │                          over the length limit
     ├── GenerationFailed       the language model server failed, timed out or answered
     │                          unusably (the extractive answer is shown instead)
     └── UploadRefused          a file added from the web is refused before it is saved
          ├── UploadTooLarge     a file over the size limit
          └── QuotaExceeded      the uploads folder would go past its quota

``IndexError_`` is the old name of :class:`IndexFolderError`, kept as an alias.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(AssistantError):
    """A setting is invalid."""


class OnnxUnavailable(ConfigError):
    """The ONNX path cannot serve this model here (no onnxruntime, an unsupported model, or
    no quantization agreed with torch); torch can."""


class ReadError(AssistantError):
    """One input file or record could not be read; the reason is the message."""


class UnsupportedFormat(ReadError):
    """The input's type is not one the readers handle."""


class IndexFolderError(AssistantError):
    """Something is wrong with the index folder."""


IndexError_ = IndexFolderError
"""The old name (the trailing underscore kept it off the built-in ``IndexError``)."""


class IndexNotFound(IndexFolderError):
    """There is no index at the given folder yet."""


class IndexLocked(IndexFolderError):
    """Another process is writing to the index."""


class IndexReadOnly(IndexFolderError):
    """This process opened the index for reading only (no write lock taken) and was asked to
    write to it; open it for writing instead."""


class IndexMismatch(IndexFolderError):
    """The index was built by another embedding model or an older format version."""


class IndexCorrupt(IndexFolderError):
    """The index failed its integrity check."""


class QueryError(AssistantError):
    """The question or its filters cannot be answered as given."""


class GenerationFailed(AssistantError):
    """The configured language model server could not give a usable answer: refused
    connection, HTTP error, timeout, or a reply that is not a chat completion. The message
    says which, without the API key."""


class UploadRefused(AssistantError):
    """A file added from the web (page or API) is refused before anything is saved."""


class UploadTooLarge(UploadRefused):
    """An uploaded file is over the size limit of one file."""


class QuotaExceeded(UploadRefused):
    """Saving the upload would take the uploads folder past its quota of bytes or files."""
