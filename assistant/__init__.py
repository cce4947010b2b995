"""Press archive assistant: ask an archive of press releases, get answers with cited sources.

Public API (everything else is internal)::

    from assistant import Assistant
    bot = Assistant.open("index", create=True)
    bot.index(["corpus/"])
    answer = bot.ask("Who attended the Sanya meeting?")
    print(answer.text, [c.title for c in answer.citations])
    more = bot.ask("What did they sign?", history=[Turn.of(answer)])

Importing this package is cheap: torch, faiss, gradio and pypdf load on first use.
"""

from .config import Settings
from .documents import (
    Answer,
    AnswerSpan,
    Chunk,
    Citation,
    Document,
    DocumentPage,
    DocumentSummary,
    DroppedSentence,
    Hit,
    IndexInfo,
    IndexReport,
    Passage,
    Skipped,
    Turn,
)
from .errors import (
    AssistantError,
    ConfigError,
    GenerationFailed,
    IndexCorrupt,
    IndexError_,
    IndexFolderError,
    IndexLocked,
    IndexMismatch,
    IndexNotFound,
    IndexReadOnly,
    OnnxUnavailable,
    QueryError,
    QuotaExceeded,
    ReadError,
    UnsupportedFormat,
    UploadRefused,
    UploadTooLarge,
)
from .planning import Part, QuestionPlan
from .service import Assistant

__all__ = [
    "Answer",
    "AnswerSpan",
    "Assistant",
    "AssistantError",
    "Chunk",
    "Citation",
    "ConfigError",
    "Document",
    "DocumentPage",
    "DocumentSummary",
    "DroppedSentence",
    "GenerationFailed",
    "Hit",
    "IndexCorrupt",
    "IndexError_",
    "IndexFolderError",
    "IndexInfo",
    "IndexLocked",
    "IndexMismatch",
    "IndexNotFound",
    "IndexReadOnly",
    "IndexReport",
    "OnnxUnavailable",
    "Part",
    "Passage",
    "QueryError",
    "QuestionPlan",
    "QuotaExceeded",
    "ReadError",
    "Settings",
    "Skipped",
    "Turn",
    "UnsupportedFormat",
    "UploadRefused",
    "UploadTooLarge",
]
__version__ = "0.1.0"
