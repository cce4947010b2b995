"""The assistant's own words in English, Russian and Kazakh: one catalogue, one lookup.

Two readers choose the language. The *answer* speaks the language of the question
(:func:`language_of`: Kazakh Cyrillic has letters Russian lacks, other Cyrillic is Russian,
anything else English), so "В архиве нет релиза, который отвечает на этот вопрос." answers a
Russian question whatever the browser says. The *web page* (labels, buttons, errors) speaks
the browser's language (:func:`browser_language`, from ``Accept-Language``). Both fall back
to English.

>>> text("answer.no_answer", "ru")
'В архиве нет релиза, который отвечает на этот вопрос.'
>>> text("list.head", "ru", n=22)
'Найдено 22 релиза'
>>> language_of("Қай жерде кездесу өтті?")
'kk'

A message whose words depend on a number is a dict of forms by CLDR plural category
(:func:`plural_category`): English one/other; Russian one/few/many ("1 релиз", "2 релиза",
"5 релизов", "21 релиз"); Kazakh one form, since a Kazakh noun after a numeral stays singular
("1 релиз", "5 релиз"). Messages are ``str.format`` templates; every language of a key takes
the same parameters (tests/test_i18n.py checks both).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Final, Literal, TypeAlias

Language: TypeAlias = Literal["en", "ru", "kk"]
Message: TypeAlias = str | Mapping[str, str]
"""A template, or templates by plural category (with an ``n`` parameter)."""

LANGUAGES: Final[tuple[Language, ...]] = ("en", "ru", "kk")
DEFAULT: Final[Language] = "en"

PLURAL_CATEGORIES: Final[Mapping[Language, tuple[str, ...]]] = {
    "en": ("one", "other"), "ru": ("one", "few", "many"), "kk": ("other",)}


def plural_category(n: int, lang: Language) -> str:
    """The CLDR plural category of the whole number ``n`` in ``lang``: the form of the noun
    that follows it."""
    if lang == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    if lang == "en":
        return "one" if n == 1 else "other"
    return "other"


# The catalogue. Keys by reader: "answer.", "searched.", "card.", "list.", "fallback." are
# said in the question's language; "page.", "search.", "doc.", "error." in the browser's.
MESSAGES: Final[Mapping[Language, Mapping[str, Message]]] = {
    "en": {
        # -- the answer --
        "answer.no_answer": "The archive has no release that answers this.",
        "answer.not_said": "The archive does not say: {part}?",
        "answer.no_answer_among": "The archive has no release that answers this among {searched}.",
        "searched.all": "all releases",
        "searched.day": "releases of {day}",
        "searched.range": "releases from {since} to {until}",
        "searched.since": "releases from {since} on",
        "searched.until": "releases up to {until}",
        "searched.collections": " in {collections}",
        "searched.languages": " in language {languages}",
        "answer.never_mentions": "the archive never mentions “{word}”",
        "answer.searched": "Searched {searched}.",
        "answer.why": "Why: {reason}.",
        "answer.sources": "Sources",
        "answer.written_by": ("Written by {model}, every sentence checked against the release "
                              "it cites{dropped}."),
        "answer.dropped": {"one": "; {n} sentence dropped by the check",
                           "other": "; {n} sentences dropped by the check"},
        "answer.extractive": "Extractive answer: {why}.",
        "answer.draft": "Writing; checked before it is final…",
        # -- a source card --
        "card.same_release": "same release as {link}",
        "card.page": "page {page}",
        "card.whole": "Whole release",
        "card.untitled": "untitled",
        "card.undated": "undated",
        "card.ocr": "OCR text",
        "card.ocr_note": "read from a scanned image by OCR; words may be misread",
        "card.also_in": "also in: {languages}",
        # -- list and count answers --
        "list.nothing": "The question names nothing to list releases about.",
        "list.none": "No release in the archive matches this list.",
        "list.head": {"one": "{n} release matches", "other": "{n} releases match"},
        "list.head_dated": {"one": "{n} release matches, from {first} to {last}",
                            "other": "{n} releases match, from {first} to {last}"},
        "list.cut": "Showing the first {n}.",
        "list.by_words": ("Found by the question's words: a release that says it in other "
                          "words may be missing."),
        # -- why the extractive answer is shown although a language model is configured --
        "fallback.list": "a list of releases is answered with the extractive dated table",
        "fallback.declined": "the archive does not answer this, so the model was not asked",
        "fallback.no_passage": "no passage to write from",
        "fallback.failed": "the language model failed: {error}",
        "fallback.empty": "the language model returned no text",
        "fallback.model_no_answer": "the language model found no answer in the passages",
        "fallback.unchecked": "the written answer could not be checked",
        "fallback.none_passed": {"one": "the model's {n} sentence did not pass the check",
                                 "other": "none of the model's {n} sentences passed the check"},
        # -- the page --
        "page.title": "Press release archive",
        "page.subtitle": ("Ask a question: the answer quotes the releases word for word, and "
                          "every sentence names its source."),
        "page.tab_chat": "Chat",
        "page.tab_search": "Search",
        "page.tab_library": "Library",
        "page.chat_placeholder": "Ask about the press releases in the archive.",
        "page.question_placeholder": "Your question, e.g. Who attended the Sanya meeting?",
        "page.ask": "Ask",
        "page.clear": "Clear",
        "page.search_placeholder": "Words or a question: the passages that match best, ranked",
        "page.search": "Search",
        "page.library_filter": "Filter by title or id",
        "page.column_date": "Date",
        "page.column_title": "Title",
        "page.column_collection": "Collection",
        "page.column_id": "Id",
        "page.remove": "Remove the opened document",
        "page.upload_note": ("**Add releases** ({suffixes}; up to {megabytes} MB each): they "
                             "are saved in {folder} and indexed in the background; the chat "
                             "answers meanwhile."),
        "page.files": "Files to add",
        "page.add": "Add to the archive",
        "page.filters": "**Filters** (for the next question)",
        "page.since": "Since (published on or after)",
        "page.until": "Until (published on or before)",
        "page.date_format": "YYYY-MM-DD",
        "page.collections": "Collections",
        "page.languages": "Languages",
        "page.empty_question": "(empty question)",
        "page.searching": "Searching the archive…",
        "page.documents": {"one": "**{n:,}** document", "other": "**{n:,}** documents"},
        "page.passages": {"one": "**{n:,}** passage", "other": "**{n:,}** passages"},
        "page.library_stats": ("{documents}, {passages} — model `{model}` — updated {updated} "
                               "— showing {shown} of {total}"),
        "page.never": "never",
        "page.open_first": "Open a document first.",
        "page.removed": "Removed {title} from the index.",
        "page.removed_file": "Its uploaded file was deleted too.",
        "page.removed_stays": ("It stays out until its folder is indexed again with the file "
                               "still there."),
        "page.uploads_off": "Uploads are off for this server.",
        "page.saved": "Saved {files}; indexing…",
        "page.refused": "Refused: {reason}",
        "page.not_saved": "nothing was saved: send the files again without the refused ones",
        "page.choose_files": "Choose files first.",
        "search.no_match": "No passage matches.",
        "search.score": "score {score}",
        "doc.gone": "This document is no longer in the index.",
        "error.sorry": "Sorry:",
        "error.server": "something went wrong on the server; the details are in its log.",
    },
    "ru": {
        "answer.no_answer": "В архиве нет релиза, который отвечает на этот вопрос.",
        "answer.not_said": "В архиве об этом не сказано: {part}?",
        "answer.no_answer_among": ("В архиве нет релиза, который отвечает на этот вопрос "
                                   "(область поиска: {searched})."),
        "searched.all": "все релизы",
        "searched.day": "релизы за {day}",
        "searched.range": "релизы с {since} по {until}",
        "searched.since": "релизы начиная с {since}",
        "searched.until": "релизы по {until} включительно",
        "searched.collections": ", коллекции: {collections}",
        "searched.languages": ", языки: {languages}",
        "answer.never_mentions": "в архиве нигде не упоминается «{word}»",
        "answer.searched": "Область поиска: {searched}.",
        "answer.why": "Причина: {reason}.",
        "answer.sources": "Источники",
        "answer.written_by": ("Написано моделью {model}; каждое предложение сверено с релизом, "
                              "на который оно ссылается{dropped}."),
        "answer.dropped": {"one": "; проверка отбросила {n} предложение",
                           "few": "; проверка отбросила {n} предложения",
                           "many": "; проверка отбросила {n} предложений"},
        "answer.extractive": "Ответ цитатами: {why}.",
        "answer.draft": "Ответ пишется; перед показом он будет проверен…",
        "card.same_release": "тот же релиз, что и {link}",
        "card.page": "стр. {page}",
        "card.whole": "Весь релиз",
        "card.untitled": "без названия",
        "card.undated": "без даты",
        "card.ocr": "текст OCR",
        "card.ocr_note": ("прочитано со скана с помощью OCR; слова могут быть распознаны "
                          "неверно"),
        "card.also_in": "на других языках: {languages}",
        "list.nothing": "В вопросе не сказано, о чём составить список релизов.",
        "list.none": "Ни один релиз в архиве не подходит под этот список.",
        "list.head": {"one": "Найден {n} релиз", "few": "Найдено {n} релиза",
                      "many": "Найдено {n} релизов"},
        "list.head_dated": {"one": "Найден {n} релиз за период с {first} по {last}",
                            "few": "Найдено {n} релиза за период с {first} по {last}",
                            "many": "Найдено {n} релизов за период с {first} по {last}"},
        "list.cut": "Показаны первые {n}.",
        "list.by_words": ("Поиск шёл по словам вопроса: релиза, где то же сказано другими "
                          "словами, в списке может не быть."),
        "fallback.list": "список релизов даётся таблицей цитат с датами",
        "fallback.declined": "в архиве нет ответа на этот вопрос, поэтому модель не спрашивали",
        "fallback.no_passage": "нет фрагментов, по которым можно написать ответ",
        "fallback.failed": "языковая модель не сработала: {error}",
        "fallback.empty": "языковая модель не вернула текста",
        "fallback.model_no_answer": "языковая модель не нашла ответа во фрагментах",
        "fallback.unchecked": "написанный ответ не удалось проверить",
        "fallback.none_passed": {
            "one": "ни одно из {n} предложения модели не прошло проверку",
            "few": "ни одно из {n} предложений модели не прошло проверку",
            "many": "ни одно из {n} предложений модели не прошло проверку"},
        "page.title": "Архив пресс-релизов",
        "page.subtitle": ("Задайте вопрос: ответ дословно цитирует релизы, и у каждого "
                          "предложения указан источник."),
        "page.tab_chat": "Чат",
        "page.tab_search": "Поиск",
        "page.tab_library": "Библиотека",
        "page.chat_placeholder": "Спросите о пресс-релизах из архива.",
        "page.question_placeholder": "Ваш вопрос, например: Кто участвовал во встрече в Санье?",
        "page.ask": "Спросить",
        "page.clear": "Очистить",
        "page.search_placeholder": ("Слова или вопрос: самые подходящие фрагменты, "
                                    "лучшие первыми"),
        "page.search": "Найти",
        "page.library_filter": "Фильтр по названию или id",
        "page.column_date": "Дата",
        "page.column_title": "Название",
        "page.column_collection": "Коллекция",
        "page.column_id": "Id",
        "page.remove": "Удалить открытый документ",
        "page.upload_note": ("**Добавить релизы** ({suffixes}; до {megabytes} МБ каждый): они "
                             "сохраняются в {folder} и индексируются в фоне; чат тем временем "
                             "отвечает."),
        "page.files": "Файлы для добавления",
        "page.add": "Добавить в архив",
        "page.filters": "**Фильтры** (для следующего вопроса)",
        "page.since": "Не раньше (опубликовано в этот день или позже)",
        "page.until": "Не позже (опубликовано в этот день или раньше)",
        "page.date_format": "ГГГГ-ММ-ДД",
        "page.collections": "Коллекции",
        "page.languages": "Языки",
        "page.empty_question": "(пустой вопрос)",
        "page.searching": "Ищу в архиве…",
        "page.documents": {"one": "**{n}** документ", "few": "**{n}** документа",
                           "many": "**{n}** документов"},
        "page.passages": {"one": "**{n}** фрагмент", "few": "**{n}** фрагмента",
                          "many": "**{n}** фрагментов"},
        "page.library_stats": ("{documents}, {passages} — модель `{model}` — обновлено: "
                               "{updated} — показано {shown} из {total}"),
        "page.never": "никогда",
        "page.open_first": "Сначала откройте документ.",
        "page.removed": "Документ {title} удалён из индекса.",
        "page.removed_file": "Загруженный файл тоже удалён.",
        "page.removed_stays": ("Он останется вне индекса, пока его папку не проиндексируют "
                               "заново с этим файлом на месте."),
        "page.uploads_off": "Загрузка файлов на этом сервере выключена.",
        "page.saved": "Сохранено: {files}; индексирую…",
        "page.refused": "Отклонено: {reason}",
        "page.not_saved": "ничего не сохранено: отправьте файлы ещё раз без отклонённых",
        "page.choose_files": "Сначала выберите файлы.",
        "search.no_match": "Ни один фрагмент не подходит.",
        "search.score": "оценка {score}",
        "doc.gone": "Этого документа больше нет в индексе.",
        "error.sorry": "Извините:",
        "error.server": "на сервере что-то пошло не так; подробности — в его журнале.",
    },
    "kk": {
        "answer.no_answer": "Мұрағатта бұл сұраққа жауап беретін релиз жоқ.",
        "answer.not_said": "Мұрағатта бұл туралы айтылмаған: {part}?",
        "answer.no_answer_among": ("Мұрағатта бұл сұраққа жауап беретін релиз жоқ (іздеу аясы: "
                                   "{searched})."),
        "searched.all": "барлық релиздер",
        "searched.day": "{day} күні шыққан релиздер",
        "searched.range": "{since} – {until} аралығында шыққан релиздер",
        "searched.since": "{since} күнінен бастап шыққан релиздер",
        "searched.until": "{until} күніне дейін шыққан релиздер",
        "searched.collections": ", жинақтар: {collections}",
        "searched.languages": ", тілдер: {languages}",
        "answer.never_mentions": "мұрағатта «{word}» еш жерде аталмайды",
        "answer.searched": "Іздеу аясы: {searched}.",
        "answer.why": "Себебі: {reason}.",
        "answer.sources": "Дереккөздер",
        "answer.written_by": ("Жауапты {model} моделі жазды; әр сөйлем өзі сілтеме жасаған "
                              "релизбен салыстырылып тексерілді{dropped}."),
        "answer.dropped": {"other": "; тексеру {n} сөйлемді алып тастады"},
        "answer.extractive": "Дәйексөздермен берілген жауап: {why}.",
        "answer.draft": "Жауап жазылып жатыр; көрсетілмес бұрын тексеріледі…",
        "card.same_release": "{link} релизімен бірдей",
        "card.page": "{page}-бет",
        "card.whole": "Релиздің толық мәтіні",
        "card.untitled": "атаусыз",
        "card.undated": "күні көрсетілмеген",
        "card.ocr": "OCR мәтіні",
        "card.ocr_note": ("сканерленген суреттен OCR арқылы оқылды; сөздер қате танылуы "
                          "мүмкін"),
        "card.also_in": "басқа тілдерде: {languages}",
        "list.nothing": "Сұрақта релиздер тізімі не туралы болатыны айтылмаған.",
        "list.none": "Мұрағатта бұл тізімге сәйкес келетін релиз жоқ.",
        "list.head": {"other": "{n} релиз табылды"},
        "list.head_dated": {"other": "{first} – {last} аралығында {n} релиз табылды"},
        "list.cut": "Алғашқы {n} релиз көрсетілді.",
        "list.by_words": ("Сұрақтағы сөздер бойынша ізделді: осыны басқа сөздермен айтқан "
                          "релиз тізімде болмауы мүмкін."),
        "fallback.list": "релиздер тізімі күндері көрсетілген дәйексөздер кестесімен беріледі",
        "fallback.declined": "мұрағатта бұл сұраққа жауап жоқ, сондықтан модельден сұралмады",
        "fallback.no_passage": "жауап жазуға үзінді жоқ",
        "fallback.failed": "тіл моделі істен шықты: {error}",
        "fallback.empty": "тіл моделі мәтін қайтармады",
        "fallback.model_no_answer": "тіл моделі үзінділерден жауап таппады",
        "fallback.unchecked": "жазылған жауапты тексеру мүмкін болмады",
        "fallback.none_passed": {
            "other": "модель жазған {n} сөйлемнің ешқайсысы тексеруден өтпеді"},
        "page.title": "Баспасөз релиздерінің мұрағаты",
        "page.subtitle": ("Сұрақ қойыңыз: жауап релиздерден сөзбе-сөз дәйексөз келтіреді, әр "
                          "сөйлемнің дереккөзі көрсетіледі."),
        "page.tab_chat": "Чат",
        "page.tab_search": "Іздеу",
        "page.tab_library": "Кітапхана",
        "page.chat_placeholder": "Мұрағаттағы баспасөз релиздері туралы сұраңыз.",
        "page.question_placeholder": "Сұрағыңыз, мысалы: Саньядағы кездесуге кім қатысты?",
        "page.ask": "Сұрау",
        "page.clear": "Тазарту",
        "page.search_placeholder": ("Сөздер немесе сұрақ: ең сәйкес үзінділер, ең жақсысы "
                                    "бірінші"),
        "page.search": "Іздеу",
        "page.library_filter": "Атауы немесе id бойынша сүзу",
        "page.column_date": "Күні",
        "page.column_title": "Атауы",
        "page.column_collection": "Жинақ",
        "page.column_id": "Id",
        "page.remove": "Ашылған құжатты жою",
        "page.upload_note": ("**Релиз қосу** ({suffixes}; әрқайсысы {megabytes} МБ-қа дейін): "
                             "файлдар {folder} қалтасына сақталып, фонда индекстеледі; осы "
                             "уақытта чат жауап бере береді."),
        "page.files": "Қосылатын файлдар",
        "page.add": "Мұрағатқа қосу",
        "page.filters": "**Сүзгілер** (келесі сұрақ үшін)",
        "page.since": "Қашаннан (осы күні немесе одан кейін жарияланған)",
        "page.until": "Қашанға дейін (осы күні немесе одан бұрын жарияланған)",
        "page.date_format": "ЖЖЖЖ-АА-КК",
        "page.collections": "Жинақтар",
        "page.languages": "Тілдер",
        "page.empty_question": "(бос сұрақ)",
        "page.searching": "Мұрағаттан іздеп жатырмын…",
        "page.documents": {"other": "**{n}** құжат"},
        "page.passages": {"other": "**{n}** үзінді"},
        "page.library_stats": ("{documents}, {passages} — модель `{model}` — жаңартылған: "
                               "{updated} — {total} ішінен {shown} көрсетілді"),
        "page.never": "ешқашан",
        "page.open_first": "Алдымен құжатты ашыңыз.",
        "page.removed": "{title} құжаты индекстен жойылды.",
        "page.removed_file": "Оның жүктелген файлы да жойылды.",
        "page.removed_stays": ("Қалтасы файл орнында тұрған күйінде қайта индекстелмейінше, "
                               "құжат индекске қайтпайды."),
        "page.uploads_off": "Бұл серверде файл жүктеу өшірулі.",
        "page.saved": "Сақталды: {files}; индекстеліп жатыр…",
        "page.refused": "Қабылданбады: {reason}",
        "page.not_saved": "ештеңе сақталмады: файлдарды қабылданбағандарынсыз қайта жіберіңіз",
        "page.choose_files": "Алдымен файлдарды таңдаңыз.",
        "search.no_match": "Сәйкес үзінді жоқ.",
        "search.score": "балл {score}",
        "doc.gone": "Бұл құжат енді индексте жоқ.",
        "error.sorry": "Кешіріңіз:",
        "error.server": "серверде бір қате шықты; толығырақ сервер журналында.",
    },
}


def supported(lang: str | None) -> Language:
    """``lang`` (an ISO 639-1 code, perhaps with a region: "ru-RU") when the catalogue has
    it, else English."""
    code = (lang or "").split("-")[0].split("_")[0].lower()
    for known in LANGUAGES:
        if code == known:
            return known
    return DEFAULT


def text(key: str, lang: str | None = DEFAULT, /, **params: object) -> str:
    """The message ``key`` in ``lang`` (English when the catalogue lacks the language),
    filled with ``params``; a message with plural forms takes the number as ``n``. A key
    missing from the catalogue is a bug: KeyError."""
    language = supported(lang)
    message = MESSAGES[language][key]
    if not isinstance(message, str):
        count = params.get("n")
        if not isinstance(count, int):
            raise TypeError(f"{key}: a message with plural forms needs a whole number n")
        message = message[plural_category(count, language)]
    return message.format(**params)


def language_of(question: str) -> Language:
    """The language an answer to ``question`` speaks: Kazakh for Cyrillic with Kazakh
    letters, Russian for other Cyrillic, else English (a Sinhala or Tamil question too: the
    catalogue has no words of theirs yet)."""
    from .languages import language_of_text

    return supported(language_of_text(question))


def browser_language(accept_language: str | None) -> Language:
    """The page's language from a browser's ``Accept-Language`` header: the first of the
    catalogue's languages in the reader's order of preference (its q-values), else English.
    "kk-KZ,kk;q=0.9,ru;q=0.8" is Kazakh; "de-DE,ru;q=0.5" Russian; "de-DE" English."""
    ranked: list[tuple[float, int, str]] = []
    for order, item in enumerate((accept_language or "").split(",")):
        tag, _, rest = item.strip().partition(";")
        quality = 1.0
        for param in rest.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = tag.strip().split("-")[0].lower()
        if quality > 0 and code in LANGUAGES:
            ranked.append((-quality, order, code))
    return supported(min(ranked)[2]) if ranked else DEFAULT


def fields(message: Message) -> frozenset[str]:
    """The parameters a message (all its plural forms) takes."""
    forms = [message] if isinstance(message, str) else list(message.values())
    return frozenset(name for form in forms
                     for _, name, _, _ in string.Formatter().parse(form) if name is not None)


def translations(keys: str = "page.", **params: object) -> dict[Language, dict[str, str]]:
    """Every message whose key starts with ``keys`` and whose parameters ``params`` all
    give, per language, filled in: what ``gr.I18n`` hands to the browser. Messages with
    plural forms or other parameters (what events write, such as the library's counts) are
    left out."""
    return {lang: {key: message.format(**params) for key, message in MESSAGES[lang].items()
                   if key.startswith(keys) and isinstance(message, str)
                   and fields(message) <= params.keys()}
            for lang in LANGUAGES}
