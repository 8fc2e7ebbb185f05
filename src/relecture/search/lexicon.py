"""The words the query parser knows, French and English, accents removed, lower case.

Catalog names: vehicle types car, van, truck, bus, motorcycle, bicycle; colours white,
black, grey, silver, red, blue, green, yellow, orange, brown, beige, pink, purple; body
styles as `indexer.body_style.STYLES` names them (estate, suv, taxi, tow_truck...).
A body-style word names a style and, where it says one, the vehicle type ("taxi": a car
that is a taxi; "police" says no type).
"""

from __future__ import annotations

VEHICLE_TYPES = ("car", "van", "truck", "bus", "motorcycle", "bicycle")
COLOURS = ("white", "black", "grey", "silver", "red", "blue", "green", "yellow", "orange",
           "brown", "beige", "pink", "purple")


def _forms(*stems: str) -> tuple[str, ...]:
    """A word and its plural (French and English plurals both end in s or x here)."""
    return tuple(w for s in stems for w in (s, s + "s"))


TYPE_WORDS: dict[str, tuple[str, ...]] = {
    **{w: ("car",) for w in _forms("voiture", "auto", "automobile", "berline", "citadine",
                                    "break", "coupe", "cabriolet", "car", "suv", "4x4", "taxi",
                                    "sedan", "hatchback", "estate", "jeep", "convertible",
                                    "decapotable", "limousine", "limo", "sportive",
                                    "sports-car", "familiale", "station-wagon", "crossover")},
    **{w: ("van",) for w in _forms("camionnette", "fourgon", "fourgonnette", "utilitaire",
                                    "van", "minivan", "vul", "monospace", "mpv", "ambulance")},
    # the detector calls a pickup a truck as often as a car: van (and its neighbour car) or truck
    **{w: ("van", "truck") for w in _forms("pickup", "pick-up")},
    **{w: ("truck",) for w in _forms("camion", "poids-lourd", "semi-remorque", "truck",
                                      "lorry", "hgv", "tracteur", "depanneuse", "tow-truck",
                                      "camion-poubelle", "benne-a-ordures", "garbage-truck",
                                      "fire-engine", "fire-truck", "box-truck")},
    "lorries": ("truck",), "pl": ("truck",), "pompiers": ("truck",),
    **{w: ("bus",) for w in _forms("bus", "autobus", "autocar", "minibus", "navette",
                                    "trolleybus", "school-bus", "bus-scolaire")},
    "buses": ("bus",), "coach": ("bus",), "coaches": ("bus",), "busses": ("bus",),
    **{w: ("motorcycle",) for w in _forms("moto", "motocyclette", "scooter", "motorcycle",
                                           "motorbike", "mobylette", "cyclomoteur", "moped")},
    **{w: ("bicycle",) for w in _forms("velo", "bicyclette", "bicycle", "bike", "cycle",
                                        "cycliste", "cyclist", "vtt")},
    **{w: ("motorcycle", "bicycle") for w in _forms("deux-roues", "2-roues")},
}

# Body-style words -> the style (`indexer.body_style.STYLES`).
STYLE_WORDS: dict[str, str] = {
    **{w: "estate" for w in _forms("break", "estate", "familiale", "station-wagon")},
    **{w: "suv" for w in _forms("suv", "4x4", "jeep", "crossover")},
    **{w: "pickup" for w in _forms("pickup", "pick-up")},
    **{w: "minivan" for w in _forms("monospace", "minivan", "mpv")},
    **{w: "convertible" for w in _forms("cabriolet", "convertible", "decapotable")},
    **{w: "sports" for w in _forms("sportive", "sports-car")},
    **{w: "limousine" for w in _forms("limousine", "limo")},
    **{w: "taxi" for w in _forms("taxi")}, "cab": "taxi", "cabs": "taxi",
    **{w: "ambulance" for w in _forms("ambulance")},
    "police": "police",
    **{w: "tow_truck" for w in _forms("depanneuse", "tow-truck")},
    **{w: "garbage_truck" for w in _forms("camion-poubelle", "benne-a-ordures",
                                          "garbage-truck")},
    **{w: "fire_engine" for w in _forms("fire-engine", "fire-truck")}, "pompiers": "fire_engine",
    **{w: "minibus" for w in _forms("minibus")},
    **{w: "box_truck" for w in _forms("box-truck")},
    **{w: "articulated" for w in _forms("semi-remorque")},
    **{w: "school_bus" for w in _forms("school-bus", "bus-scolaire")},
    **{w: "trolleybus" for w in _forms("trolleybus")},
    **{w: "scooter" for w in _forms("scooter", "mobylette", "cyclomoteur", "moped")},
}

# Several-word names, replaced by one token before the words are looked up.
PHRASES: dict[str, str] = {
    "poids lourds": "poids-lourd", "poids lourd": "poids-lourd",
    "camions poubelles": "camion-poubelle", "camion poubelle": "camion-poubelle",
    "bennes a ordures": "benne-a-ordures", "benne a ordures": "benne-a-ordures",
    "camion de pompiers": "pompiers", "camion des pompiers": "pompiers",
    "camion de pompier": "pompiers", "camion pompiers": "pompiers", "camion pompier": "pompiers",
    "tow trucks": "tow-truck", "tow truck": "tow-truck", "garbage trucks": "garbage-truck",
    "garbage truck": "garbage-truck", "bin lorry": "garbage-truck",
    "fire engines": "fire-engine", "fire engine": "fire-engine", "fire trucks": "fire-truck",
    "fire truck": "fire-truck", "station wagons": "station-wagon",
    "station wagon": "station-wagon", "voitures de sport": "sports-car",
    "voiture de sport": "sports-car", "sports cars": "sports-car", "sports car": "sports-car",
    "school buses": "school-bus", "school bus": "school-bus", "bus scolaires": "bus-scolaire",
    "bus scolaire": "bus-scolaire", "box trucks": "box-truck", "box truck": "box-truck",
    "moving van": "box-truck", "people carrier": "minivan",
    "semi remorque": "semi-remorque", "pick up": "pickup", "deux roues": "deux-roues",
    "2 roues": "2-roues", "bleu marine": "bleu", "navy blue": "blue", "gris metallise": "gris",
    "vert olive": "vert", "vert kaki": "kaki",
}

COLOUR_WORDS: dict[str, str] = {
    **{w: "white" for w in ("blanc", "blanche", "blancs", "blanches", "white", "whites")},
    **{w: "black" for w in ("noir", "noire", "noirs", "noires", "black")},
    **{w: "grey" for w in ("gris", "grise", "grises", "grey", "gray", "greys", "grays",
                           "anthracite")},
    **{w: "silver" for w in ("argent", "argente", "argentee", "argentes", "argentees",
                             "silver", "silvery", "alu")},
    **{w: "red" for w in ("rouge", "rouges", "red", "reds", "bordeaux", "grenat", "maroon")},
    **{w: "blue" for w in ("bleu", "bleue", "bleus", "bleues", "blue", "blues", "marine",
                           "navy", "turquoise")},
    **{w: "green" for w in ("vert", "verte", "verts", "vertes", "green", "greens", "kaki",
                            "khaki")},
    **{w: "yellow" for w in ("jaune", "jaunes", "yellow", "dore", "doree", "dores", "dorees",
                             "gold", "golden")},
    **{w: "orange" for w in ("orange", "oranges")},
    **{w: "brown" for w in ("marron", "marrons", "brun", "brune", "bruns", "brunes", "brown",
                            "chocolat")},
    **{w: "beige" for w in ("beige", "beiges", "creme", "cream", "tan", "sable", "champagne")},
    **{w: "pink" for w in ("rose", "roses", "pink", "fuchsia")},
    **{w: "purple" for w in ("violet", "violette", "violets", "violettes", "purple", "mauve",
                             "pourpre")},
}

# Shade words: a dark blue is searched as blue (the catalog has no shades).
MODIFIERS = frozenset(
    "fonce foncee fonces foncees clair claire clairs claires dark light pale metallise "
    "metallisee metallic mat mate vif vive bright".split()
)

STOP_WORDS = frozenset(
    """
    le la les l un une des de du d a au aux en dans sur avec entre et ou par pour qui que
    est ete passe passee passes passees vu vue vus vues ce cet cette ces il y ont on
    the an of on in at with between and or by for to from is was were that this these
    which who seen passing passed driving going any all some
    tous toutes tout quelques
    cherche chercher recherche rechercher trouve trouver montre montrer affiche afficher
    find search show look looking list me moi please svp stp
    vehicule vehicules vehicle vehicles vl licence license number numero n no immatricule
    immatriculee couleur color colour type marque modele
    """.split()
)

NEGATIONS = frozenset("pas not sauf except excepte sans without hors non excluding exclure".split())

# Colours an estimator easily mistakes for one another: offered below exact matches. Grey and
# black: dark grey is named black and glossy black grey under CCTV light (chosen on half of
# the labelled videos, BENCHMARKS.md "Requisitions").
NEIGHBOUR_COLOURS: dict[str, tuple[str, ...]] = {
    "white": ("silver", "grey"), "silver": ("white", "grey"), "grey": ("silver", "white", "black"),
    "black": ("grey",),
    "red": ("orange",), "orange": ("red",), "brown": ("beige",), "beige": ("brown",),
}
NEIGHBOUR_TYPES: dict[str, tuple[str, ...]] = {
    "van": ("car",), "car": ("van",), "truck": ("bus",), "bus": ("truck",),
}

MONTHS: dict[str, int] = {
    **dict.fromkeys(("janvier", "janv", "jan", "january"), 1),
    **dict.fromkeys(("fevrier", "fevr", "fev", "feb", "february"), 2),
    **dict.fromkeys(("mars", "mar", "march"), 3),
    **dict.fromkeys(("avril", "avr", "apr", "april"), 4),
    **dict.fromkeys(("mai", "may"), 5),
    **dict.fromkeys(("juin", "jun", "june"), 6),
    **dict.fromkeys(("juillet", "juil", "jul", "july"), 7),
    **dict.fromkeys(("aout", "aug", "august"), 8),
    **dict.fromkeys(("septembre", "sept", "sep", "september"), 9),
    **dict.fromkeys(("octobre", "oct", "october"), 10),
    **dict.fromkeys(("novembre", "nov", "november"), 11),
    **dict.fromkeys(("decembre", "dec", "december"), 12),
}
WEEKDAYS: dict[str, int] = {
    **dict.fromkeys(("lundi", "monday"), 0), **dict.fromkeys(("mardi", "tuesday"), 1),
    **dict.fromkeys(("mercredi", "wednesday"), 2), **dict.fromkeys(("jeudi", "thursday"), 3),
    **dict.fromkeys(("vendredi", "friday"), 4), **dict.fromkeys(("samedi", "saturday"), 5),
    **dict.fromkeys(("dimanche", "sunday"), 6),
}


def lookup_types(word: str) -> tuple[str, ...]:
    """Catalog vehicle types named by one normalised word (empty when none)."""
    return TYPE_WORDS.get(word) or ((word,) if word in VEHICLE_TYPES else ())


def lookup_style(word: str) -> str | None:
    """Body style named by one normalised word, or None."""
    return STYLE_WORDS.get(word)


def lookup_colour(word: str) -> str | None:
    """Catalog colour named by one normalised word, or None."""
    return COLOUR_WORDS.get(word) or (word if word in COLOURS else None)


def is_known_word(word: str) -> bool:
    """Any word the parser gives a meaning to (used to keep it out of plate patterns)."""
    return (word in STOP_WORDS or word in TYPE_WORDS or word in COLOUR_WORDS
            or word in STYLE_WORDS
            or word in MODIFIERS or word in MONTHS or word in WEEKDAYS or word in NEGATIONS
            or word in {"h", "am", "pm", "er", "st", "nd", "rd", "th", "cam", "cams"})
