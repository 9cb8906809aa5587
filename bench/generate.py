"""Generate a realistic, deterministic benchmark site for site-builder and its peers.

    python bench/generate.py --articles 5000 --entries 300 --out bench/_work/corpus [--seed 1]

writes, from one seed and nothing else (same arguments, same bytes):

    OUT/site.yaml, OUT/content/articles/<slug>.md, OUT/content/glossary/<slug>.md   site-builder
    OUT/hugo/      hugo.toml, content/posts/*.md, content/glossary/*.md, layouts/_default/*.html
    OUT/pelican/   pelicanconf.py, content/articles/*.md, content/pages/*.md (glossary)
    OUT/mkdocs/    mkdocs.yml, docs/index.md, docs/articles/*.md, docs/glossary/*.md
    OUT/corpus.json  what was generated, and which article and entry the runner edits

Articles are ~800 words of news prose built from sentence templates and a vocabulary:
paragraphs wrapped at ~90 characters, ``## `` headings, a bulleted list, a blockquote,
code spans, two ``[[slug]]`` cross-references to other articles, 2-4 tags from a pool
of 40, dates over three years and a summary. Glossary entries are people,
organisations and places with 0-2 aliases each; mentions of them follow a Zipf law
(a few entries are everywhere, most are rare). The peers get the same bodies, with
``[[slug]]`` turned into an ordinary Markdown link (they do no entity linking).
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import sys
import textwrap

FORMATS = ("site-builder", "hugo", "pelican", "mkdocs")
WRAP = 90
ZIPF_S = 1.05
GLOSSARY_SHARE = 0.35  # share of name slots filled with a glossary entry (the rest: one-off names)

# ---------------------------------------------------------------------------
# Vocabulary

FIRST_NAMES = """Amalia Bruno Carmen Dariusz Elif Farid Greta Hamza Ingrid Jonas Kalina Lorenzo Marta
Nikolai Oksana Pavel Quentin Rania Stefan Tamsin Ulrike Viktor Wanjiru Xavier Yelena Zoltan Adaeze
Benedikt Clodagh Dmitri Esperanza Florin Gudrun Hiroshi Isidora Jaroslav Katarzyna Leopold Mireille
Nadia Octavian Priya Radomir Saoirse Teodor Valentina Wilhelmina Yusuf Zsofia Anneliese Bartosz
Cosima Desmond Emeka Fenella Gaspard Henrike Imogen Joaquim""".split()

SURNAMES = """Lindqvist Okonkwo Castellanos Nakamura Haddad Kowalczyk Varga Oyelaran Brennan Szabo
Marchetti Holmgren Achterberg Delacroix Ferreira Gallagher Hartmann Ivanova Jankowski Kaczmarek
Lombardi Mwangi Novotny Ostrowski Petrescu Quintero Rasmussen Sorensen Tamura Uddin Valdivia
Wojcik Yamazaki Zielinski Abernathy Bergstrom Cavallaro Dimitrov Esterhazy Fitzgerald Grunewald
Halvorsen Iglesias Jovanovic Kristiansen Laurentiu Moreau Nieminen Oduya Pellegrini Radulescu
Salvatierra Thorsen Underhill Vasquez Wiśniewski Adeyemi Borkowski Carvalho Demirci Ekwueme
Falkenberg Gonzaga Hrabal Ishikawa Kovacevic Lindholm Mendelsohn Nakashima Oyelowo Prokopenko
Rautenberg Stavros Tchaikovskaya Urquhart Vukovic Wetherell Yilmaz Zamora""".split()

PLACE_ONSETS = "Var Ost Bel Kar Lun Mor Tal Ves Dun Gal Hel Ist Jor Kel Mar Nor Pel Rav Sol Tor Ul Val Wes Zar Brag Cal Dor Fen Gor Har".split()
PLACE_MIDDLES = ["", "", "a", "e", "i", "o", "en", "an", "ar", "el", "or"]
PLACE_CODAS = "holm vik grad mont ford mere burg stad dale haven port wick ton ria via essa ovo ania".split()
PLACE_FORMS = ["{}", "{}", "{}", "Port {}", "{} Province", "{} Bay", "North {}", "{} Valley", "Lake {}"]

ORG_FORMS = [
    "{place} Ministry of {domain}", "National {domain} Agency", "{place} {domain} Authority",
    "{surname} {industry} Group", "{surname} & {surname2} {industry}", "{place} {industry} Company",
    "Council for {domain} Reform", "{place} Institute of {domain}", "{domain} Watchdog of {place}",
    "{surname} Foundation", "{place} Workers' Union", "{place} Chamber of Commerce",
    "Coalition for {domain} Transparency", "{place} Development Bank", "{surname} {industry} Holdings",
    "{place} Court of Audit", "{place} Port Authority", "{place} Public Broadcaster",
]
DOMAINS = ["Energy", "Water", "Transport", "Health", "Finance", "Justice", "Fisheries", "Mining",
           "Housing", "Agriculture", "Trade", "Telecommunications", "Education", "Defence", "Forestry",
           "Migration", "Customs", "Statistics", "Competition", "Elections", "Procurement", "Heritage"]
INDUSTRIES = ["Shipping", "Mining", "Logistics", "Energy", "Construction", "Pharmaceuticals",
              "Media", "Capital", "Telecom", "Agritech", "Steel", "Insurance", "Aviation", "Textiles"]

ROLES = ["the finance minister", "the mayor", "a senior prosecutor", "the company's chief executive",
         "an opposition lawmaker", "the agency's director", "a former adviser", "the union's leader",
         "a spokesperson", "the chief auditor", "a regional governor", "the board chair",
         "an independent analyst", "the ombudsman", "a procurement official", "the deputy minister"]

TOPICS = ["the port expansion", "the water concession", "a disputed tender", "the pension reform",
          "the offshore accounts", "a fishing licence scheme", "the rail contract", "the audit report",
          "the border crossing deal", "emergency procurement", "the housing subsidy", "a shell company",
          "the mining permits", "the grain export quota", "a leaked memo", "the coastal highway",
          "the hospital upgrade", "the election budget", "the customs database", "a sovereign bond",
          "the wind farm auction", "the fuel subsidy", "a land swap", "the telecom spectrum sale",
          "the school meals programme", "the dredging contract", "a defence purchase",
          "the forest clearance", "the satellite deal", "the bank rescue"]
TOPIC_NOUNS = ["tender", "contract", "audit", "licence", "loan", "subsidy", "permit", "concession",
               "budget", "investigation", "inquiry", "deal", "scheme", "reform", "bond", "quota"]
ADJS = ["disputed", "controversial", "delayed", "secret", "costly", "unusual", "long-awaited",
        "opaque", "lucrative", "sweeping", "hurried", "flawed", "modest", "ambitious", "leaked"]
REPORT_VERBS = ["said", "told reporters", "wrote in a statement", "argued", "insisted", "acknowledged",
                "confirmed", "denied", "claimed", "warned", "conceded", "suggested"]
ACTIONS = ["approved", "suspended", "challenged", "investigated", "cancelled", "extended", "audited",
           "defended", "criticised", "renegotiated", "blocked", "reviewed", "signed", "published"]
DOCS = ["the minutes", "a spreadsheet", "the contract annex", "bank statements", "the board papers",
        "shipping records", "court filings", "the registry entries", "internal emails", "the tender file",
        "satellite images", "procurement notices", "the draft law", "customs declarations"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
TAGS = ["procurement", "corruption", "elections", "courts", "energy", "water", "shipping", "mining",
        "health", "housing", "transport", "banking", "sanctions", "customs", "fisheries", "agriculture",
        "defence", "migration", "press-freedom", "public-finance", "audits", "telecoms", "environment",
        "climate", "land", "labour", "pensions", "education", "infrastructure", "trade", "tax",
        "lobbying", "data", "investigations", "local-government", "parliament", "police", "ports",
        "forestry", "aviation"]


def _codes(rng: random.Random) -> str:
    kind = rng.randrange(8)
    y = rng.randrange(2019, 2025)
    if kind == 0:
        return f"REF-{y}-{rng.randrange(1, 9999):04d}"
    if kind == 1:
        return f"{rng.choice(['budget', 'tender', 'payments', 'contracts', 'flights'])}_{y}_{rng.choice(['final', 'v2', 'draft', 'q3'])}.xlsx"
    if kind == 2:
        return f"{y % 100}-cv-{rng.randrange(100, 9999):05d}"
    if kind == 3:
        return f"#{rng.choice(['Clean', 'Save', 'Open', 'Fair', 'Stop'])}{rng.choice(['River', 'Port', 'Tender', 'Budget', 'Forest'])}{rng.choice(['Now', 'Today', '', 'Watch'])}"
    if kind == 4:
        return f"Article {rng.randrange(2, 140)}({rng.choice('abcd')})"
    if kind == 5:
        return f"/api/v{rng.randrange(1, 4)}/{rng.choice(['contracts', 'tenders', 'awards', 'vessels'])}"
    if kind == 6:
        return f"IMO {rng.randrange(9000000, 9999999)}"
    return f"{rng.choice(['grep', 'wc -l', 'sha256sum', 'pdftotext'])} {rng.choice(['ledger.csv', 'annex-4.pdf', 'dump.sql'])}"


# Sentence templates: {P} person, {O} organisation, {G} place, {E} any entry; the rest is vocabulary.
SENTENCES = [
    "{P} {verb} that the {adj} {noun} had been {action} after {topic} drew attention in {G}.",
    "According to {docs} seen by reporters, {O} {action} {topic} in {month} {year}.",
    "The {noun} was worth about {money}, roughly {pct} more than {O} had first announced.",
    "{P}, who has led {O} since {year}, did not respond to repeated requests for comment.",
    "In {G}, residents said they learned of {topic} only when construction began.",
    "Records filed under {code} show that the payments continued for {num} months.",
    "{role} {verb} that nothing improper had taken place.",
    "{O} {action} the {noun} on a {weekday} evening, hours before the deadline.",
    "The documents list {num} subcontractors, several of them registered in {G}.",
    "{P} and {P} met at least {num} times while {topic} was being negotiated.",
    "Critics, including {P}, {verb} that the process favoured a single bidder.",
    "A spokesperson for {O} {verb} that the figures had been taken out of context.",
    "The {adj} {noun} has since become a test case for how {G} handles public money.",
    "Our analysis of {docs} found {num} entries that matched the company's address.",
    "By {month} {year}, {O} had quietly extended the deadline twice.",
    "{P} told {O} in a letter that the {noun} should be paused pending review.",
    "Nobody at {O} would say who signed off on the final version.",
    "The file, labelled {code}, was later removed from the public portal.",
    "Officials in {G} {verb} that the delay was caused by {topic}.",
    "It is not the first time {O} has faced questions about {topic}.",
    "{P} {verb} that more disclosures would follow before the end of {month}.",
    "The money was routed through {G} before reaching accounts controlled by {O}.",
    "Lawyers for {P} {verb} that their client had acted within the rules.",
    "Two people familiar with the matter said {P} had pushed for the {noun} personally.",
    "The {noun} was {action} by {O} only after journalists asked about it.",
    "That figure is {pct} higher than the estimate {O} published a year earlier.",
    "At a hearing in {G}, {role} was asked why the tender had no competing bids.",
    "The episode deepened a rift between {O} and {O}.",
    "{P} later {action} the decision, citing {topic}.",
    "Few of the {num} jobs promised in {G} have materialised.",
    "Data published at {code} suggests the spending peaked in {month} {year}.",
    "Supporters of the plan, among them {P}, say it will pay for itself within {num} years.",
    "The auditors flagged {num} irregularities, most of them linked to {topic}.",
    "In a statement, {O} {verb} that it welcomed any independent scrutiny.",
    "{G} has been at the centre of the dispute since {year}.",
    "The contract was signed by {P} on behalf of {O}.",
    "Independent experts were not consulted before the {noun} was {action}.",
    "Much of the {money} has yet to be accounted for.",
    "Reporters who visited {G} found the site largely abandoned.",
    "Asked about {topic}, {P} {verb} that the question was for {O} to answer.",
    "The minutes show the board spent less than {num} minutes on the item.",
    "Several of the firms share directors with {O}, the registry entries show.",
    "{E} appears in {docs} at least {num} times.",
    "The same pattern emerged in {G}, where {O} {action} a similar {noun}.",
    "It took {num} freedom-of-information requests to obtain {docs}.",
    "Neither {P} nor {O} has been charged with any wrongdoing.",
    "The hashtag {code} trended for two days after the story broke.",
    "Nothing in {docs} explains why the price rose so sharply.",
    "On paper, {O} is owned by a trust registered in {G}.",
    "{role} {verb} that the rules had since been tightened.",
]
HEADINGS = ["What happened", "Why it matters", "Following the money", "What the documents show",
            "Who decided", "The response", "What comes next", "A pattern of delays", "The paper trail",
            "How the deal was made", "What officials say", "The local impact", "Questions that remain",
            "Background", "The numbers", "Timeline"]
LIST_ITEMS = [
    "{O} {action} the {noun} in {month} {year}.",
    "{P} was named as a signatory on {num} documents.",
    "Payments of {money} went through {G}.",
    "The deadline moved {num} times.",
    "Records under {code} were taken offline.",
    "{O} and {O} share a registered address.",
    "Auditors found {num} irregularities.",
    "Residents of {G} were not consulted.",
]
QUOTES = [
    "We were told the {noun} was routine. Nothing about it was routine.",
    "If {O} has nothing to hide, it should publish {docs} in full.",
    "Every decision was taken according to the law, and we will show that in court.",
    "People in {G} deserve to know where {money} went.",
    "This is not about one {noun}; it is about how {O} works.",
]
XREF_SENTENCES = [
    "We first reported on this in [[{slug}]].",
    "For the earlier chapter of this story, see [[{slug}|our investigation into {topic}]].",
    "The background is explained in [[{slug}]].",
    "A similar case is described in [[{slug}|our report from {G}]].",
]
ARTICLE_TITLES = [
    "{O} under pressure over {topic}", "How {G} lost control of {topic}",
    "Inside {topic}: who gained, who paid", "{P} faces questions over {topic}",
    "The {adj} {noun} that divided {G}", "Why {O} {action} {topic}",
    "What we know about {topic} in {G}", "{O} and the {adj} {noun}",
    "Money, silence and {topic}", "{P}, {O} and {topic}",
]
SUMMARIES = [
    "Documents show how {topic} in {G} was decided, and who benefited.",
    "{O} {action} a {adj} {noun}; our reporting traces the decisions behind it.",
    "Questions grow over {topic} and the role of {P}.",
    "A close reading of {docs} on {topic}.",
]
ENTRY_SENTENCES = {  # the first sentence names the entry (and is its summary); the others do not
    "PERSON": [
        "{name} is a {nationality} public figure who has held several posts at {O}.",
        "The {nationality} official first came to national attention during the debate over {topic}.",
        "Before entering public life, they worked in {industry_lc} in {G}.",
        "They have been a frequent critic of {O}.",
    ],
    "ORG": [
        "{name} is based in {G} and employs about {num} people.",
        "It was founded in {year} and is overseen by {O}.",
        "The organisation has been involved in {topic} and in several disputes over public money.",
        "Its current head is {P}.",
    ],
    "GPE": [
        "{name} is a district of about {num},000 people on the coast near {G}.",
        "The district became known well beyond its borders because of {topic}.",
        "Much of the local economy depends on {industry_lc}.",
        "{O} has offices there.",
    ],
}
ENTRY_FILLER = [
    "The role played in {topic} is covered in several of our articles.",
    "{P} has called that record central to the region's future.",
    "Records under {code} give further detail.",
    "Critics say the {noun} deserved more scrutiny from {O}.",
    "The {adj} {noun} of {year} remains the best-known episode.",
    "The name often comes up alongside {E}.",
]
ONE_OFF = {
    "PERSON": ["a local councillor", "a former employee", "one of the bidders", "a senior civil servant",
               "the project's engineer", "a retired judge", "a shipping agent", "the head of the audit team"],
    "ORG": ["a local firm", "the regional council", "an offshore company", "the state utility",
            "a consultancy", "the district court", "a shipping line", "the tax office"],
    "GPE": ["the capital", "a nearby town", "the northern provinces", "the port city", "the coastal region",
            "a border district"],
}
ONE_OFF["*"] = ONE_OFF["ORG"]
NATIONALITIES = ["Valdorian", "Ostrian", "Kareli", "Belmontese", "Lunarian", "Tallish"]

_SLOT = re.compile(r"\{(\w+)\}")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NON_SLUG.sub("-", ascii_text.lower()).strip("-")


# ---------------------------------------------------------------------------
# The glossary


class Entry:
    __slots__ = ("slug", "title", "aliases", "type", "summary", "body")

    def __init__(self, slug: str, title: str, aliases: list[str], type_: str):
        self.slug, self.title, self.aliases, self.type = slug, title, aliases, type_
        self.summary = ""
        self.body = ""


def _place_name(rng: random.Random) -> str:
    return rng.choice(PLACE_ONSETS) + rng.choice(PLACE_MIDDLES) + rng.choice(PLACE_CODAS)


def make_glossary(rng: random.Random, m: int) -> list[Entry]:
    """M entries (about 45% people, 35% organisations, 20% places), each term unique."""
    used_terms: set[str] = set()
    used_slugs: set[str] = set()
    entries: list[Entry] = []
    n_places = max(1, m // 5)
    n_orgs = max(1, (m * 35) // 100)
    n_people = max(1, m - n_places - n_orgs)
    if m < 3:
        n_people, n_orgs, n_places = m, 0, 0

    def add(title: str, aliases: list[str], type_: str) -> bool:
        slug = slugify(title)
        if not slug or slug in used_slugs or title.casefold() in used_terms:
            return False
        keep = []
        for a in aliases:
            k = a.casefold()
            if k not in used_terms and k != title.casefold() and len(a) > 2 and a not in keep:
                keep.append(a)
        used_slugs.add(slug)
        used_terms.add(title.casefold())
        used_terms.update(a.casefold() for a in keep)
        entries.append(Entry(slug, title, keep, type_))
        return True

    places: list[str] = []
    while len(places) < n_places:
        base = _place_name(rng)
        form = rng.choice(PLACE_FORMS)
        title = form.format(base)
        aliases = [base] if form != "{}" and rng.random() < 0.6 else []
        if base.casefold() in used_terms:  # 'Port Varholm' must not take 'Varholm' from an entry
            continue
        if add(title, aliases, "GPE"):
            places.append(base)
    surnames_used: dict[str, int] = {}
    people = 0
    while people < n_people:
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        title = f"{first} {last}"
        aliases = []
        r = rng.random()
        if r < 0.55 and surnames_used.get(last, 0) == 0:
            aliases.append(last)  # 'Lindqvist said…'
        if r > 0.85:
            aliases.append(f"{first[0]}. {last}")
        if add(title, aliases, "PERSON"):
            surnames_used[last] = surnames_used.get(last, 0) + 1
            people += 1
    orgs = 0
    attempts = 0
    while orgs < n_orgs:
        attempts += 1
        form = rng.choice(ORG_FORMS)
        title = form.format(place=rng.choice(places) if places else _place_name(rng),
                            domain=rng.choice(DOMAINS), industry=rng.choice(INDUSTRIES),
                            surname=rng.choice(SURNAMES), surname2=rng.choice(SURNAMES))
        if attempts > 50 * m:  # pragma: no cover - vocabulary exhausted
            title = f"{title} {orgs}"
        words = [w for w in re.findall(r"[A-Za-z]+", title) if w[0].isupper() and w not in ("Of", "For")]
        aliases = []
        if len(words) >= 3 and rng.random() < 0.7:
            aliases.append("".join(w[0] for w in words).upper())  # an acronym, e.g. 'VMoE'
        if rng.random() < 0.2:
            aliases.append("the " + title.split(" ")[-1] + " " + rng.choice(["Board", "Office", "Trust"]))
        if add(title, aliases, "ORG"):
            orgs += 1
    rng.shuffle(entries)  # rank (and so Zipf frequency) independent of type
    return entries


class Zipf:
    """Sample entries with P(rank r) ∝ 1/r^s, per type and over all."""

    def __init__(self, entries: list[Entry], s: float = ZIPF_S):
        self.by_type: dict[str, tuple[list[Entry], list[float]]] = {}
        for t in ("PERSON", "ORG", "GPE", None):
            pool = [e for e in entries if t is None or e.type == t]
            cum, total = [], 0.0
            for rank, _ in enumerate(pool, 1):
                total += 1.0 / rank ** s
                cum.append(total)
            self.by_type[t or "*"] = (pool, cum)

    def pick(self, rng: random.Random, type_: str) -> Entry | None:
        pool, cum = self.by_type.get(type_) or self.by_type["*"]
        if not pool:
            pool, cum = self.by_type["*"]
            if not pool:
                return None
        i = bisect.bisect_left(cum, rng.random() * cum[-1])
        return pool[min(i, len(pool) - 1)]


# ---------------------------------------------------------------------------
# Prose


class Writer:
    def __init__(self, rng: random.Random, zipf: Zipf):
        self.rng = rng
        self.zipf = zipf
        self.seen: set[str] = set()  # entries already named in the current document
        self.exclude: str | None = None  # an entry does not mention itself
        self.mentions: list[str] = []

    def start(self, exclude: str | None = None) -> None:
        self.seen = set()
        self.exclude = exclude
        self.mentions = []

    def entity(self, type_: str) -> str:
        if self.rng.random() > GLOSSARY_SHARE:
            return self.rng.choice(ONE_OFF[type_])  # most names in a story are not glossary entries
        for _ in range(4):
            e = self.zipf.pick(self.rng, type_)
            if e is not None and e.slug != self.exclude:
                break
        else:
            return self.rng.choice(ONE_OFF[type_])  # the glossary has no entry of this type
        self.mentions.append(e.slug)
        if e.slug in self.seen and e.aliases and self.rng.random() < 0.5:
            return self.rng.choice(e.aliases)  # later mentions often use the short name
        self.seen.add(e.slug)
        return e.title

    def fill(self, template: str, **fixed: str) -> str:
        rng = self.rng

        def one(m: re.Match) -> str:
            k = m.group(1)
            if k in fixed:
                return fixed[k]
            if k == "P":
                return self.entity("PERSON")
            if k == "O":
                return self.entity("ORG")
            if k == "G":
                return self.entity("GPE")
            if k == "E":
                return self.entity("*")
            if k == "verb":
                return rng.choice(REPORT_VERBS)
            if k == "adj":
                return rng.choice(ADJS)
            if k == "noun":
                return rng.choice(TOPIC_NOUNS)
            if k == "action":
                return rng.choice(ACTIONS)
            if k == "topic":
                return rng.choice(TOPICS)
            if k == "docs":
                return rng.choice(DOCS)
            if k == "role":
                return rng.choice(ROLES).capitalize() if m.start() == 0 else rng.choice(ROLES)
            if k == "month":
                return rng.choice(MONTHS)
            if k == "weekday":
                return rng.choice(WEEKDAYS)
            if k == "year":
                return str(rng.randrange(2008, 2024))
            if k == "num":
                return str(rng.choice([2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 14, 17, 20, 23, 40, 65, 120]))
            if k == "pct":
                return f"{rng.randrange(3, 80)} per cent"
            if k == "money":
                return f"{rng.randrange(2, 950)} million {rng.choice(['euros', 'dollars', 'crowns'])}"
            if k == "code":
                return f"`{_codes(rng)}`"
            if k == "nationality":
                return rng.choice(NATIONALITIES)
            if k == "industry_lc":
                return rng.choice(INDUSTRIES).lower()
            raise KeyError(k)

        s = _SLOT.sub(one, template)
        return s[0].upper() + s[1:]

    def sentence(self) -> str:
        return self.fill(self.rng.choice(SENTENCES))


def _words(text: str) -> int:
    return len(text.split())


_XREF = re.compile(r"\[\[[^\]\n]*\]\]")
_NBSP_MARK = "\x1f"


def wrap(text: str, prefix: str = "") -> str:
    """Line-wrap at ~90 characters; a [[slug|text]] never breaks (it may not span lines)."""
    protected = _XREF.sub(lambda m: m.group(0).replace(" ", _NBSP_MARK), text)
    out = textwrap.fill(protected, width=WRAP, initial_indent=prefix, subsequent_indent=prefix,
                        break_long_words=False, break_on_hyphens=False)
    return out.replace(_NBSP_MARK, " ")


class Article:
    __slots__ = ("slug", "title", "date", "summary", "tags", "body", "mentions")


def make_articles(rng: random.Random, n: int, writer: Writer, words: int) -> list[Article]:
    start = dt.date(2021, 1, 1)
    articles: list[Article] = []
    used: set[str] = set()
    for i in range(n):
        a = Article()
        writer.start()
        title = writer.fill(rng.choice(ARTICLE_TITLES))
        slug = slugify(title)[:70].strip("-") or f"article-{i}"
        k = 2
        base = slug
        while slug in used:
            slug = f"{base}-{k}"
            k += 1
        used.add(slug)
        a.slug, a.title = slug, title
        a.date = start + dt.timedelta(days=rng.randrange(3 * 365))
        a.tags = sorted(rng.sample(TAGS, rng.randrange(2, 5)))
        a.summary = writer.fill(rng.choice(SUMMARIES))
        a.body = ""  # filled below, once every slug exists (cross-references point anywhere)
        a.mentions = []
        articles.append(a)
    slugs = [a.slug for a in articles]
    for i, a in enumerate(articles):
        writer.start()
        a.body = _article_body(rng, writer, a, slugs, i, words)
        a.mentions = writer.mentions
    return articles


def _paragraph(rng: random.Random, writer: Writer, extra: list[str]) -> str:
    sentences = [writer.sentence() for _ in range(rng.randrange(3, 6))]
    for s in extra:
        sentences.insert(rng.randrange(1, len(sentences) + 1), s)
    return " ".join(sentences)


def _article_body(rng: random.Random, writer: Writer, a: Article, slugs: list[str], i: int,
                  target_words: int) -> str:
    xrefs = []
    if len(slugs) > 1:
        for _ in range(2):
            j = rng.randrange(len(slugs) - 1)
            j = j + 1 if j >= i else j  # never itself
            xrefs.append(writer.fill(rng.choice(XREF_SENTENCES), slug=slugs[j]))
    n_sections = rng.randrange(3, 5)
    list_at = rng.randrange(n_sections)
    quote_at = rng.randrange(n_sections)
    xref_at = {rng.randrange(n_sections + 1): [], rng.randrange(n_sections + 1): []}
    for k, x in zip(list(xref_at) * 2, xrefs):
        xref_at.setdefault(k, []).append(x)
    blocks: list[str] = []
    words = 0

    def para(extra: list[str] = ()) -> None:
        nonlocal words
        text = _paragraph(rng, writer, list(extra))
        words += _words(text)
        blocks.append(wrap(text))

    para(xref_at.get(0, []))
    para()
    headings = rng.sample(HEADINGS, n_sections)
    per_section = max(1, (target_words - words) // n_sections)
    for s in range(n_sections):
        blocks.append("## " + headings[s])
        section_start = words
        para(xref_at.get(s + 1, []))
        if s == list_at:
            items = [writer.fill(rng.choice(LIST_ITEMS)) for _ in range(rng.randrange(3, 6))]
            blocks.append("\n".join("- " + wrap(x, "  ")[2:] for x in items))
            words += sum(_words(x) for x in items)
        if s == quote_at:
            q = writer.fill(rng.choice(QUOTES))
            who = writer.fill("{P}, speaking in {G}")
            blocks.append(wrap(f"{q} — {who}", "> "))
            words += _words(q) + _words(who)
        while words - section_start < per_section and words < target_words - 40:
            para()
    return "\n\n".join(blocks) + "\n"


def make_entry_texts(rng: random.Random, entries: list[Entry], writer: Writer, words: int) -> None:
    for e in entries:
        writer.start(exclude=e.slug)
        nationality = rng.choice(NATIONALITIES)
        sentences = [writer.fill(t, name=e.title, nationality=nationality) for t in ENTRY_SENTENCES[e.type]]
        e.summary = sentences[0]
        filler = rng.sample(ENTRY_FILLER, len(ENTRY_FILLER))
        while _words(" ".join(sentences)) < words:
            sentences.append(writer.fill(filler.pop() if filler else rng.choice(SENTENCES)))
        e.body = wrap(" ".join(sentences)) + "\n"


# ---------------------------------------------------------------------------
# Writers per format


def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid YAML (and TOML) string


def _yaml_list(items: list[str]) -> str:
    return "[" + ", ".join(_q(x) for x in items) + "]"


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def _peer_body(body: str, titles: dict[str, str], url) -> str:
    """[[slug]] and [[slug|text]] become ordinary Markdown links for tools without them."""
    def one(m: re.Match) -> str:
        inner = m.group(0)[2:-2]
        slug, _, text = inner.partition("|")
        slug = slug.strip()
        return f"[{text.strip() or titles[slug]}]({url(slug)})"

    return _XREF.sub(one, body)


def write_site_builder(out: str, articles: list[Article], entries: list[Entry]) -> None:
    adir, gdir = os.path.join(out, "content", "articles"), os.path.join(out, "content", "glossary")
    os.makedirs(adir)
    os.makedirs(gdir)
    _write(os.path.join(out, "site.yaml"),
           "title: Benchmark Desk\n"
           "description: A generated archive of investigative explainers, for benchmarks.\n"
           "base_url: https://bench.example.org/\nlanguage: en\nlink: first\n")
    for a in articles:
        _write(os.path.join(adir, a.slug + ".md"),
               f"---\ntitle: {_q(a.title)}\ndate: {a.date.isoformat()}\nsummary: {_q(a.summary)}\n"
               f"tags: {_yaml_list(a.tags)}\nbyline: Investigations desk\n---\n\n{a.body}")
    for e in entries:
        aliases = f"aliases: {_yaml_list(e.aliases)}\n" if e.aliases else ""
        _write(os.path.join(gdir, e.slug + ".md"),
               f"---\ntitle: {_q(e.title)}\n{aliases}summary: {_q(e.summary)}\ntype: {e.type}\n---\n\n{e.body}")


HUGO_BASEOF = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ if not .IsHome }}{{ .Title }} · {{ end }}{{ site.Title }}</title>
{{ with .Description }}<meta name="description" content="{{ . }}">{{ end }}
</head>
<body>
<header><a href="{{ site.Home.RelPermalink }}">{{ site.Title }}</a>
<nav>{{ range site.Sections }}<a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ end }}<a href="{{ "tags/" | relURL }}">Tags</a></nav>
</header>
<main>{{ block "main" . }}{{ end }}</main>
<footer>{{ site.Title }}</footer>
</body>
</html>
"""
HUGO_SINGLE = """{{ define "main" }}
<article>
<h1>{{ .Title }}</h1>
{{ if not .Date.IsZero }}<p><time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2 January 2006" }}</time>{{ with .Params.byline }} · {{ . }}{{ end }}</p>{{ end }}
{{ with .Params.summary }}<p class="summary">{{ . }}</p>{{ end }}
{{ .Content }}
{{ with .GetTerms "tags" }}<ul class="tags">{{ range . }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>{{ end }}
</article>
{{ end }}
"""
HUGO_LIST = """{{ define "main" }}
<h1>{{ .Title }}</h1>
{{ .Content }}
<ul>
{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a>{{ if not .Date.IsZero }} <time>{{ .Date.Format "2006-01-02" }}</time>{{ end }}{{ with .Params.summary }} — {{ . }}{{ end }}</li>
{{ end }}</ul>
{{ end }}
"""


def write_hugo(out: str, articles: list[Article], entries: list[Entry], titles: dict[str, str]) -> None:
    root = os.path.join(out, "hugo")
    for d in ("content/posts", "content/glossary", "layouts/_default"):
        os.makedirs(os.path.join(root, d))
    _write(os.path.join(root, "hugo.toml"),
           'baseURL = "https://bench.example.org/"\ndefaultContentLanguage = "en"\ntitle = "Benchmark Desk"\n'
           'enableRobotsTXT = false\n')
    _write(os.path.join(root, "layouts/_default/baseof.html"), HUGO_BASEOF)
    _write(os.path.join(root, "layouts/_default/single.html"), HUGO_SINGLE)
    _write(os.path.join(root, "layouts/_default/list.html"), HUGO_LIST)
    _write(os.path.join(root, "content/posts/_index.md"), '---\ntitle: "Articles"\n---\n')
    _write(os.path.join(root, "content/glossary/_index.md"), '---\ntitle: "Glossary"\n---\n')
    for a in articles:
        body = _peer_body(a.body, titles, lambda s: f"/posts/{s}/")
        _write(os.path.join(root, "content/posts", a.slug + ".md"),
               f"---\ntitle: {_q(a.title)}\ndate: {a.date.isoformat()}\nsummary: {_q(a.summary)}\n"
               f"tags: {_yaml_list(a.tags)}\nbyline: Investigations desk\nslug: {a.slug}\n---\n\n{body}")
    for e in entries:
        aliases = f"aliases_text: {_yaml_list(e.aliases)}\n" if e.aliases else ""
        _write(os.path.join(root, "content/glossary", e.slug + ".md"),
               f"---\ntitle: {_q(e.title)}\n{aliases}summary: {_q(e.summary)}\ntype: {e.type}\n---\n\n{e.body}")


PELICANCONF = """# Generated by bench/generate.py: Pelican's defaults, default theme, default feeds.
AUTHOR = "Investigations desk"
SITENAME = "Benchmark Desk"
SITEURL = ""
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
RELATIVE_URLS = True
"""
# With 'sections' navigation, the 300 glossary pages stay off the menu of every page, as
# anyone running such a site would set; 'full' keeps Pelican's default (every page listed).
PELICAN_SECTIONS_NAV = "DISPLAY_PAGES_ON_MENU = False\n"


def _one_line(s: str) -> str:
    return " ".join(s.split())


def write_pelican(out: str, articles: list[Article], entries: list[Entry], titles: dict[str, str],
                  nav: str) -> None:
    root = os.path.join(out, "pelican")
    os.makedirs(os.path.join(root, "content", "articles"))
    os.makedirs(os.path.join(root, "content", "pages"))
    _write(os.path.join(root, "pelicanconf.py"), PELICANCONF + (PELICAN_SECTIONS_NAV if nav == "sections" else ""))
    for a in articles:
        body = _peer_body(a.body, titles, lambda s: f"{{filename}}/articles/{s}.md")
        _write(os.path.join(root, "content", "articles", a.slug + ".md"),
               f"Title: {_one_line(a.title)}\nDate: {a.date.isoformat()}\nTags: {', '.join(a.tags)}\n"
               f"Slug: {a.slug}\nAuthors: Investigations desk\nSummary: {_one_line(a.summary)}\n\n{body}")
    for e in entries:
        _write(os.path.join(root, "content", "pages", e.slug + ".md"),
               f"Title: {_one_line(e.title)}\nSlug: {e.slug}\nSummary: {_one_line(e.summary)}\n\n{e.body}")


# MkDocs' automatic navigation puts every page into the menu of every page: output and time
# grow with N² (about 250 KB of menu per page at N=1000). 'sections' lists the home page and
# the two section indexes instead, which is how a site of this size would be set up.
MKDOCS_SECTIONS_NAV = """nav:
  - Home: index.md
  - Articles: articles/index.md
  - Glossary: glossary/index.md
not_in_nav: |
  /articles/*.md
  /glossary/*.md
"""


def write_mkdocs(out: str, articles: list[Article], entries: list[Entry], titles: dict[str, str],
                 nav: str) -> None:
    root = os.path.join(out, "mkdocs")
    os.makedirs(os.path.join(root, "docs", "articles"))
    os.makedirs(os.path.join(root, "docs", "glossary"))
    _write(os.path.join(root, "mkdocs.yml"),
           "site_name: Benchmark Desk\nsite_url: https://bench.example.org/\n"
           "site_description: A generated archive of investigative explainers, for benchmarks.\n"
           "theme:\n  name: mkdocs\n" + (MKDOCS_SECTIONS_NAV if nav == "sections" else ""))
    _write(os.path.join(root, "docs", "index.md"),
           "# Benchmark Desk\n\nA generated archive of investigative explainers, for benchmarks.\n")
    by_date = sorted(articles, key=lambda a: (a.date, a.slug), reverse=True)
    _write(os.path.join(root, "docs", "articles", "index.md"),
           "# Articles\n\n" + "".join(f"- [{_one_line(a.title)}]({a.slug}.md) ({a.date.isoformat()})\n"
                                      for a in by_date))
    _write(os.path.join(root, "docs", "glossary", "index.md"),
           "# Glossary\n\n" + "".join(f"- [{_one_line(e.title)}]({e.slug}.md)\n"
                                      for e in sorted(entries, key=lambda e: e.title)))
    for a in articles:
        body = _peer_body(a.body, titles, lambda s: f"{s}.md")
        _write(os.path.join(root, "docs", "articles", a.slug + ".md"),
               f"---\ntitle: {_q(a.title)}\ndate: {a.date.isoformat()}\nsummary: {_q(a.summary)}\n"
               f"tags: {_yaml_list(a.tags)}\n---\n\n# {_one_line(a.title)}\n\n{body}")
    for e in entries:
        _write(os.path.join(root, "docs", "glossary", e.slug + ".md"),
               f"---\ntitle: {_q(e.title)}\nsummary: {_q(e.summary)}\n---\n\n# {_one_line(e.title)}\n\n{e.body}")


# ---------------------------------------------------------------------------


def generator_digest() -> str:
    with open(__file__, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()[:16]


def generate(out: str, n: int, m: int, seed: int = 1, formats: tuple[str, ...] = FORMATS,
             words: int = 800, peer_nav: str = "sections") -> dict:
    rng = random.Random(f"site-builder-bench:{seed}")
    entries = make_glossary(rng, m)
    zipf = Zipf(entries)
    writer = Writer(rng, zipf)
    make_entry_texts(rng, entries, writer, 100)
    articles = make_articles(rng, n, writer, words)

    if os.path.exists(out):
        if os.listdir(out) and not os.path.exists(os.path.join(out, "corpus.json")):
            raise SystemExit(f"{out} is not empty and is not a generated corpus: refusing to replace it")
        shutil.rmtree(out)
    os.makedirs(out)
    titles = {a.slug: a.title for a in articles}
    if "site-builder" in formats:
        write_site_builder(out, articles, entries)
    if "hugo" in formats:
        write_hugo(out, articles, entries, titles)
    if "pelican" in formats:
        write_pelican(out, articles, entries, titles, peer_nav)
    if "mkdocs" in formats:
        write_mkdocs(out, articles, entries, titles, peer_nav)

    # What the runner edits: the middle article, and a person of middle rank whose
    # surname alias keeps matching after the title gains a middle initial.
    ranked = [e for e in entries if e.type == "PERSON"] or entries
    edit_entry = next((e for e in ranked[len(ranked) // 2:] if e.type == "PERSON" and e.aliases
                       and " " not in e.aliases[0]), ranked[len(ranked) // 2] if ranked else None)
    counts: dict[str, int] = {}
    for a in articles:
        for s in set(a.mentions):
            counts[s] = counts.get(s, 0) + 1
    manifest = {
        "generator": generator_digest(),
        "articles": n,
        "entries": m,
        "seed": seed,
        "formats": list(formats),
        "peer_nav": peer_nav,
        "words": sum(_words(a.body) for a in articles),
        "edit_article": sorted(titles)[len(titles) // 2] if titles else None,
        "edit_entry": edit_entry.slug if edit_entry else None,
        "articles_per_entry_top5": sorted(counts.values(), reverse=True)[:5],
        "entries_never_mentioned": sum(1 for e in entries if e.slug not in counts),
    }
    with open(os.path.join(out, "corpus.json"), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2)
        fh.write("\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=int, default=1000, help="number of articles (default 1000)")
    p.add_argument("--entries", type=int, default=300, help="number of glossary entries (default 300)")
    p.add_argument("--out", required=True, help="output folder (replaced if it holds an earlier corpus)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--words", type=int, default=800, help="words per article (default 800)")
    p.add_argument("--formats", default=",".join(FORMATS),
                   help=f"comma-separated subset of {','.join(FORMATS)} (default: all)")
    p.add_argument("--peer-nav", choices=("sections", "full"), default="sections",
                   help="peers' menus: 'sections' (home and section indexes; default) or 'full' "
                        "(MkDocs' automatic nav and Pelican's pages menu: every page on every page)")
    args = p.parse_args(argv)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    unknown = set(formats) - set(FORMATS)
    if unknown:
        p.error(f"unknown format(s): {', '.join(sorted(unknown))}")
    if args.articles < 0 or args.entries < 0:
        p.error("--articles and --entries must be ≥ 0")
    manifest = generate(args.out, args.articles, args.entries, args.seed, formats, args.words, args.peer_nav)
    print(json.dumps(manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
