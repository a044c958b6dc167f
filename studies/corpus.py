"""A small embedded corpus of templated sentences with a concept hierarchy (the real-model study, issue 9).

Seven *families*, each a parent concept with five children: dog → breeds, bird → species, fruit → kinds
(things), France / Japan / Italy / Germany → their cities (places). Every sentence mentions one entity:
either a child (the child and, through the hierarchy, its parent are present) or the parent word itself
(the parent alone). Sentences are ``prefix + template.format(entity)``; the entity's character span is kept
so that the activation at its last token can be read. Nothing is downloaded: the words are here.
"""
from __future__ import annotations

from dataclasses import dataclass

#: family -> (kind of templates, the parent word, its children)
FAMILIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "dog": ("thing", "dog", ("poodle", "beagle", "terrier", "bulldog", "labrador")),
    "bird": ("thing", "bird", ("robin", "sparrow", "eagle", "parrot", "owl")),
    "fruit": ("thing", "fruit", ("apple", "banana", "cherry", "grape", "mango")),
    "France": ("place", "France", ("Paris", "Lyon", "Marseille", "Nice", "Bordeaux")),
    "Japan": ("place", "Japan", ("Tokyo", "Osaka", "Kyoto", "Sapporo", "Nagoya")),
    "Italy": ("place", "Italy", ("Rome", "Milan", "Naples", "Venice", "Florence")),
    "Germany": ("place", "Germany", ("Berlin", "Munich", "Hamburg", "Cologne", "Frankfurt")),
}

TEMPLATES = {
    "thing": ("I saw the {} near the old house.", "My neighbour talked about the {} all evening.",
              "The {} was there when we arrived.", "She took a picture of the {} yesterday.",
              "Everyone at school knew about the {}.", "We bought the {} at the market.",
              "The children wrote a story about the {}.", "He could not stop looking at the {}."),
    "place": ("She flew to {} last week.", "We spent the whole summer in {}.", "{} is lovely in the spring.",
              "My cousin moved to {} for work.", "The train to {} was late again.", "They first met in {} years ago.",
              "I found an old map of {} in the attic.", "The news from {} surprised everyone."),
}

PREFIXES = ("", "Yesterday, ", "As far as I remember, ", "To be honest, ", "In the end, ", "Oddly enough, ",
            "According to my friend, ", "Last year, ")


@dataclass(frozen=True)
class Sentence:
    text: str
    span: tuple[int, int]     # characters of the entity
    family: str
    entity: str               # the child word, or the parent word
    is_parent: bool           # the parent word itself (parent alone)


def sentences(n_prefixes: int = len(PREFIXES), families=None) -> list[Sentence]:
    """Every (prefix, template, entity) combination of the chosen families, in a fixed order."""
    from theory.errors import SDLInputError

    if not 1 <= n_prefixes <= len(PREFIXES):
        raise SDLInputError(f"n_prefixes must lie in [1, {len(PREFIXES)}], got {n_prefixes}")
    names = list(FAMILIES) if families is None else list(families)
    unknown = [f for f in names if f not in FAMILIES]
    if unknown:
        raise SDLInputError(f"unknown families {unknown}; known: {', '.join(FAMILIES)}")
    out = []
    for prefix in PREFIXES[:n_prefixes]:
        for fam in names:
            kind, parent, children = FAMILIES[fam]
            for tmpl in TEMPLATES[kind]:
                for entity in (parent,) + children:
                    head, _ = tmpl.split("{}")
                    text = tmpl.format(entity)
                    full, start = prefix + text, len(prefix) + len(head)   # the tokenizer is uncased
                    out.append(Sentence(full, (start, start + len(entity)), fam, entity, entity == parent))
    return out
