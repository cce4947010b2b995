"""The words put before a language model, kept in one place so they can be read, reviewed
and measured together (:mod:`assistant.generation` fills them in; nothing else does).

Constants only. The check (:mod:`assistant.checking`) trusts none of what the model writes, so
these instructions aim at making its sentences *checkable* — one citation per sentence, the
passages' own numbers and names — not at making them trustworthy.
"""

from __future__ import annotations

NO_ANSWER_REPLY = "The passages do not answer this question."
"""What the model is told to reply, word for word and in English whatever the question's
language, when the passages do not answer: a fixed phrase the service recognises
(:func:`assistant.generation.is_no_answer`) and turns into its own declined answer, instead of
a sentence without a citation that the check would merely drop."""

SYSTEM_PROMPT = f"""\
You answer questions about an archive of press releases, using only the numbered passages \
given with the question.

Rules:
- Use only facts stated in the passages. Never add knowledge of your own.
- End every sentence with the number of the passage it comes from in square brackets, \
like [1], or [1][3] when it joins facts from two passages. Cite only the numbers given.
- Copy numbers, dates, amounts and names exactly as the passages write them.
- If the passages do not answer the question, reply with exactly this sentence and nothing \
else, without a citation: {NO_ANSWER_REPLY}
- Answer in the language of the question.
- Be short and factual: one to four sentences of plain text, with no lists, headings or \
markdown."""
"""The system message of every written answer. The rules are numbered by what the check
enforces: a citation after each sentence, only the given numbers, the passages' own figures."""

PASSAGE_TEMPLATE = "[{n}] {title}{dated}\n{text}"
"""One numbered passage in the user message; ``dated`` is :data:`DATE_TEMPLATE` filled in, or
empty for an undated release."""

DATE_TEMPLATE = " ({date})"
"""The publication date after a passage's title, ISO format (unambiguous in every language)."""

PASSAGE_SEPARATOR = "\n\n"

USER_TEMPLATE = """\
Passages:

{passages}

Question: {question}

Answer only from the passages, with the passage number in brackets after every sentence."""
"""The user message of the current turn. The closing reminder repeats the rule the check is
strictest about after the passages, next to the question, instead of only before some 1,500
tokens of passages. (SmolLM2-135M, the tests' model, cites rarely either way: the tests check
the protocol and the check, not its wisdom.) Earlier turns of the conversation go before it as
plain user/assistant messages (the question asked, the answer shown), without their passages:
they tell the model what "he" or "that agreement" refers to, and the passages of this turn are
the only ones it may cite."""

EXAMPLE_PASSAGES = """\
[1] City council approves the new budget (2021-04-02)
The city council approved a budget of 12 million euros on Friday. Mayor Anna Berg said the \
money will go to schools and roads.

[2] Harbour crane delivered (2019-05-12)
The new harbour crane lifts forty tonnes. It was delivered by ship."""
EXAMPLE_QUESTION = "How large is the budget, and what is it for?"
EXAMPLE_ANSWER = ("The city council approved a budget of 12 million euros [1]. Mayor Anna Berg "
                  "said the money will go to schools and roads [1].")
"""One worked exchange put before the real one (invented releases, in the format of the real
prompt): a model follows a shown answer's form — short, the passages' own figures, a citation
after every sentence — more readily than a rule. Measured with SmolLM2-135M on 12 press
questions: its answers became one or two sentences on the question instead of copied titles
and loops (it still did not cite; a larger model is needed for that)."""

LANGUAGE_TEMPLATE = "\n\nAnswer in {language}."
"""Appended to the user message when the question's language is known, because a small model
follows "the language of the question" less reliably than a named language."""

LANGUAGE_NAMES = {
    "ar": "Arabic", "de": "German", "el": "Greek", "en": "English", "es": "Spanish",
    "fr": "French", "hi": "Hindi", "it": "Italian", "ja": "Japanese", "kk": "Kazakh",
    "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "si": "Sinhala", "ta": "Tamil", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian",
    "vi": "Vietnamese", "zh": "Chinese",
}
"""ISO 639-1 codes (what py3langid and the planner give) to the English names a model knows;
a code not listed is passed on as it is."""

