"""The query parser on investigators' real phrasings, French and English, in any order.

`NOW` is Tuesday 31 January 2023, 13:00 in Paris. Expected windows are Paris local times
("30/01 08:00-30/01 09:00"; a bare "30/01" is that whole day; the year is 2023 unless given).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from relecture.errors import QueryError, UsageError
from relecture.search import describe, merge_flags, parse_query
from relecture.search.query_time import utc_to_local

NOW = datetime(2023, 1, 31, 12, 0, tzinfo=timezone.utc)

# phrase | cameras | windows (;) | types | colours | plate | free text
TABLE = """
camionnette blanche caméra 3 hier 8h-9h | 3 | 30/01 08:00-30/01 09:00 | van | white | |
voiture rouge | | | car | red | |
voitures rouges | | | car | red | |
camion | | | truck | | |
poids lourd bleu | | | truck | blue | |
poids lourds | | | truck | | |
un poids-lourd | | | truck | | |
bus | | | bus | | |
autocar blanc | | | bus | white | |
moto noire | | | motorcycle | black | |
scooter | | | motorcycle | | |
vélo | | | bicycle | | |
vélos | | | bicycle | | |
fourgon gris | | | van | grey | |
utilitaire blanc | | | van | white | |
fourgonnette grise | | | van | grey | |
voiture blanche | | | car | white | |
voitures blanches | | | car | white | |
camionnettes blanches | | | van | white | |
des camions blancs | | | truck | white | |
voiture noire hier | | 30/01 | car | black | |
voiture grise aujourd'hui | | 31/01 | car | grey | |
voiture argentée | | | car | silver | |
voitures argentées | | | car | silver | |
voiture argent | | | car | silver | |
voiture verte | | | car | green | |
voiture jaune | | | car | yellow | |
voiture orange | | | car | orange | |
voiture marron | | | car | brown | |
voiture brune | | | car | brown | |
voiture beige | | | car | beige | |
voiture rose | | | car | pink | |
voiture violette | | | car | purple | |
voiture bleue | | | car | blue | |
voitures bleues | | | car | blue | |
voiture bleu marine | | | car | blue | |
voiture gris foncé | | | car | grey | |
voiture blanche ou grise | | | car | white grey | |
caméra 12 | 12 | | | | |
caméras 1 à 5 | 1 2 3 4 5 | | | | |
cam 3, 4 | 3 4 | | | | |
cam12 | 12 | | | | |
caméras 3 et 4 | 3 4 | | | | |
camera n°8 | 8 | | | | |
sur la caméra 7 hier soir | 7 | 30/01 18:00-31/01 00:00 | | | |
de 14h à 16h30 | | 30/01 14:00-30/01 16:30 | | | |
entre 14h et 16h | | 30/01 14:00-30/01 16:00 | | | |
14h-16h | | 30/01 14:00-30/01 16:00 | | | |
hier 8h-9h | | 30/01 08:00-30/01 09:00 | | | |
le 30/01/2023 | | 30/01 | | | |
30 janvier | | 30/01 | | | |
le 30 janvier 2023 de 14h à 16h | | 30/01 14:00-30/01 16:00 | | | |
lundi 30 janvier | | 30/01 | | | |
après 22h | | 30/01 22:00-31/01 06:00 | | | |
avant 8h | | 31/01 00:00-31/01 08:00 | | | |
hier après 22h | | 30/01 22:00-31/01 06:00 | | | |
hier avant 8h | | 30/01 00:00-30/01 08:00 | | | |
à partir de 15h | | 30/01 15:00-31/01 00:00 | | | |
jusqu'à 9h | | 31/01 00:00-31/01 09:00 | | | |
vers 14h hier | | 30/01 13:30-30/01 14:30 | | | |
à 10h | | 31/01 09:30-31/01 10:30 | | | |
ce matin | | 31/01 06:00-31/01 12:00 | | | |
cet après-midi | | 31/01 12:00-31/01 18:00 | | | |
cette nuit | | 30/01 20:00-31/01 06:00 | | | |
la nuit dernière | | 30/01 20:00-31/01 06:00 | | | |
hier soir voiture | | 30/01 18:00-31/01 00:00 | car | | |
hier matin | | 30/01 06:00-30/01 12:00 | | | |
avant-hier | | 29/01 | | | |
avant hier | | 29/01 | | | |
lundi | | 30/01 | | | |
dimanche | | 29/01 | | | |
mardi | | 31/01 | | | |
mardi dernier | | 24/01 | | | |
il y a 3 jours | | 28/01 | | | |
de 22h à 2h | | 30/01 22:00-31/01 02:00 | | | |
le 29/01 de 22h à 2h | | 29/01 22:00-30/01 02:00 | | | |
plaque AB-123-CD | | | | | AB123CD |
AB-123-CD | | | | | AB123CD |
AB123CD | | | | | AB123CD |
ab 123 cd | | | | | AB123CD |
plaque AB-1?3-* | | | | | AB1?3* |
AB-1?3-* | | | | | AB1?3* |
plaque 1234 AB 56 | | | | | 1234AB56 |
1234 AB 56 | | | | | 1234AB56 |
plaque 123 BCD 2A | | | | | 123BCD2A |
plaque *123* | | | | | *123* |
plaque 123 | | | | | *123* |
plaque AB* | | | | | AB* |
plaque *CD | | | | | *CD |
immatriculation GH-456-JK | | | | | GH456JK |
immat GH456JK caméra 3 | 3 | | | | GH456JK |
plaque: EF-456-GH voiture | | | car | | EF456GH |
camionnette blanche AB-1?3-* caméra 3 hier 8h-9h | 3 | 30/01 08:00-30/01 09:00 | van | white | AB1?3* |
voiture rouge avec galerie | | | car | red | | galerie
camionnette blanche avec échelle sur le toit | | | van | white | | échelle toit
moto avec top case | | | motorcycle | | | top case
voiture blanche lettrage publicitaire | | | car | white | | lettrage publicitaire
le 2023-01-30 cam 3 | 3 | 30/01 | | | |
2023-01-30 | | 30/01 | | | |
30/01 | | 30/01 | | | |
30.01.2023 | | 30/01 | | | |
30/01/23 | | 30/01 | | | |
12/01/2023 | | 12/01 | | | |
1er janvier | | 01/01 | | | |
25 décembre | | 25/12/2022 | | | |
le 3 février 2022 | | 03/02/2022 | | | |
véhicule blanc caméra 2 | 2 | | | white | |
tous les camions hier | | 30/01 | truck | | |
cherche voiture noire | | | car | black | |
le camion bleu sur la caméra 4 | 4 | | truck | blue | |
une moto rouge et une voiture noire | | | motorcycle car | red black | |
camion ou bus | | | truck bus | | |
2 roues | | | motorcycle bicycle | | |
deux-roues | | | motorcycle bicycle | | |
pick-up blanc | | | van truck | white | |
semi-remorque | | | truck | | |
minibus | | | bus | | |
SUV noir | | | car | black | |
4x4 gris | | | car | grey | |
taxi | | | car | | |
de 8h à 9h caméras 1 à 3 | 1 2 3 | 31/01 08:00-31/01 09:00 | | | |
entre 14 et 16h | | 30/01 14:00-30/01 16:00 | | | |
de 14 à 16h | | 30/01 14:00-30/01 16:00 | | | |
14h30-15h | | 30/01 14:30-30/01 15:00 | | | |
de 9 heures à 11 heures | | 31/01 09:00-31/01 11:00 | | | |
7h45 | | 31/01 07:15-31/01 08:15 | | | |
14:30 | | 30/01 14:00-30/01 15:00 | | | |
à midi | | 31/01 11:30-31/01 12:30 | | | |
depuis 2 heures | | 31/01 11:00-31/01 13:00 | | | |
dans la dernière heure | | 31/01 12:00-31/01 13:00 | | | |
les 3 derniers jours | | 28/01 13:00-31/01 13:00 | | | |
plaque AB-123-CD hier | | 30/01 | | | AB123CD |
fourgon blanc GH-45?-JK caméras 2 et 5 | 2 5 | | van | white | GH45?JK |
voiture grise cam 3 entre 14h et 16h le 30/01 | 3 | 30/01 14:00-30/01 16:00 | car | grey | |
moto hier entre 18h et 20h caméra 9 | 9 | 30/01 18:00-30/01 20:00 | motorcycle | | |
vélo ce matin caméra 1 | 1 | 31/01 06:00-31/01 12:00 | bicycle | | |
camion blanc cette nuit caméras 10 à 12 | 10 11 12 | 30/01 20:00-31/01 06:00 | truck | white | |
le 28/01/2023 après 20h | | 28/01 20:00-29/01 06:00 | | | |
samedi soir | | 28/01 18:00-29/01 00:00 | | | |
dimanche matin voiture | | 29/01 06:00-29/01 12:00 | car | | |
hier 8h-9h et 17h-18h | | 30/01 08:00-30/01 09:00; 30/01 17:00-30/01 18:00 | | | |
hier et aujourd'hui | | 30/01; 31/01 | | | |
VOITURE BLANCHE CAMÉRA 3 | 3 | | car | white | |
Camionnette Blanche, caméra 3, hier 8h-9h. | 3 | 30/01 08:00-30/01 09:00 | van | white | |
l'utilitaire blanc | | | van | white | |
red van between 14h and 16h on camera 12 | 12 | 30/01 14:00-30/01 16:00 | van | red | |
white car | | | car | white | |
white cars | | | car | white | |
black truck | | | truck | black | |
grey van yesterday | | 30/01 | van | grey | |
gray lorry | | | truck | grey | |
silver car on camera 5 | 5 | | car | silver | |
blue bus today | | 31/01 | bus | blue | |
green motorcycle | | | motorcycle | green | |
yellow bicycle | | | bicycle | yellow | |
brown van | | | van | brown | |
pink scooter | | | motorcycle | pink | |
purple car | | | car | purple | |
orange truck | | | truck | orange | |
beige car | | | car | beige | |
2pm to 4pm | | 30/01 14:00-30/01 16:00 | | | |
from 2pm to 4pm yesterday | | 30/01 14:00-30/01 16:00 | | | |
between 2 and 4pm | | 30/01 14:00-30/01 16:00 | | | |
between 2pm and 4pm | | 30/01 14:00-30/01 16:00 | | | |
2 to 4 pm | | 30/01 14:00-30/01 16:00 | | | |
after 10pm | | 30/01 22:00-31/01 06:00 | | | |
after 22h | | 30/01 22:00-31/01 06:00 | | | |
before 8am | | 31/01 00:00-31/01 08:00 | | | |
before 8h | | 31/01 00:00-31/01 08:00 | | | |
at 9am | | 31/01 08:30-31/01 09:30 | | | |
around 11:15 | | 31/01 10:45-31/01 11:45 | | | |
at noon | | 31/01 11:30-31/01 12:30 | | | |
yesterday | | 30/01 | | | |
today | | 31/01 | | | |
on 30 January 2023 | | 30/01 | | | |
30 January 2023 | | 30/01 | | | |
January 30 | | 30/01 | | | |
Jan 29th | | 29/01 | | | |
Monday, January 30, 2023 | | 30/01 | | | |
2023-01-30 camera 3 | 3 | 30/01 | | | |
cameras 1 to 5 | 1 2 3 4 5 | | | | |
cameras 3 and 4 | 3 4 | | | | |
cam 3, 4 white van | 3 4 | | van | white | |
cams 2-4 | 2 3 4 | | | | |
plate AB-123-CD | | | | | AB123CD |
licence plate AB123CD | | | | | AB123CD |
registration 1234 AB 56 | | | | | 1234AB56 |
white van with a ladder on the roof | | | van | white | | ladder roof
black car with tinted windows | | | car | black | | tinted windows
last night on camera 4 | 4 | 30/01 20:00-31/01 06:00 | | | |
this morning | | 31/01 06:00-31/01 12:00 | | | |
yesterday evening | | 30/01 18:00-31/01 00:00 | | | |
tonight | | 31/01 18:00-01/02 00:00 | | | |
last monday | | 30/01 | | | |
the day before yesterday | | 29/01 | | | |
2 days ago | | 29/01 | | | |
last 2 hours | | 31/01 11:00-31/01 13:00 | | | |
past 3 days | | 28/01 13:00-31/01 13:00 | | | |
between 10pm and 2am | | 30/01 22:00-31/01 02:00 | | | |
11am to 1pm | | 31/01 11:00-31/01 13:00 | | | |
white van AB-1?3-* camera 3 yesterday 8am-9am | 3 | 30/01 08:00-30/01 09:00 | van | white | AB1?3* |
motorbike | | | motorcycle | | |
bike | | | bicycle | | |
coach | | | bus | | |
hgv | | | truck | | |
trucks and buses | | | truck bus | | |
red or orange car | | | car | red orange | |
dark blue car | | | car | blue | |
light grey van | | | van | grey | |
any white vans on cam 3 yesterday afternoon | 3 | 30/01 12:00-30/01 18:00 | van | white | |
show me black motorcycles after 22h yesterday | | 30/01 22:00-31/01 06:00 | motorcycle | black | |
find plate GH-456-JK | | | | | GH456JK |
red car seen on camera 12 around 2pm | 12 | 30/01 13:30-30/01 14:30 | car | red | |
voiture rouge camera 12 yesterday 14h-16h | 12 | 30/01 14:00-30/01 16:00 | car | red | |
red voiture hier | | 30/01 | car | red | |
white Renault Kangoo | | | | white | | Renault Kangoo
"""


def _rows():
    for line in TABLE.strip().splitlines():
        phrase, cams, wins, types, colours, plate, text = (c.strip() for c in line.split("|"))
        yield pytest.param(phrase, cams, wins, types, colours, plate, text, id=phrase)


def _day(s: str) -> datetime:
    parts = s.split("/")
    return datetime(int(parts[2]) if len(parts) == 3 else 2023, int(parts[1]), int(parts[0]))


def _expected_window(spec: str) -> tuple[datetime, datetime]:
    if "-" not in spec:
        day = _day(spec)
        return day, day + timedelta(days=1)
    a, b = spec.split("-")
    (da, ta), (db, tb) = a.split(), b.split()
    return (_day(da) + timedelta(hours=int(ta[:2]), minutes=int(ta[3:])),
            _day(db) + timedelta(hours=int(tb[:2]), minutes=int(tb[3:])))


def test_table_is_large_enough():
    assert len(list(_rows())) >= 150


@pytest.mark.parametrize("phrase,cams,wins,types,colours,plate,text", list(_rows()))
def test_phrasing(phrase, cams, wins, types, colours, plate, text):
    q = parse_query(phrase, NOW)
    got_windows = [(utc_to_local(w.start, q.tz), utc_to_local(w.end, q.tz)) for w in q.windows]
    assert q.cameras == tuple(cams.split()), describe(q)
    assert got_windows == [_expected_window(w.strip()) for w in wins.split(";") if w.strip()], describe(q)
    assert q.types == tuple(types.split()), describe(q)
    assert q.colours == tuple(colours.split()), describe(q)
    assert (q.plate.pattern if q.plate else "") == plate, describe(q)
    assert q.free_text == text, describe(q)


@pytest.mark.parametrize("phrase,words", [
    ("de 16h à 14h", "16h"),  # reversed range that is not a night
    ("2pm to 1pm", "2pm"),
    ("de 14h à 14h", "empty"),
    ("31/02/2023", "31/02/2023"),
    ("30 février", "30 février"),
    ("le 31/04", "31/04"),
    ("plaque AB#12", "AB#12"),
    ("plaque *", "*"),
    ("25h", "25h"),
    ("14h61", "14h61"),
    ("13pm", "13pm"),
    ("pas rouge", "pas"),
    ("not red", "not"),
    ("tous sauf les bus", "sauf"),
    ("plaque AB-123-CD et plaque EF-456-GH", "AB123CD"),
])
def test_refuses_what_cannot_be_right_and_names_it(phrase, words):
    with pytest.raises(QueryError, match=words.replace("*", r"\*")):
        parse_query(phrase, NOW)


@pytest.mark.parametrize("phrase, words", [
    ("voiture 42 caméra", "42 caméra"),
    ("caméra -1", "caméra -1"),  # the camera dropped, every camera would be searched
    ("plaque AB'--", "plaque AB'--"),  # the plate dropped, every plate would match
    ("plaque %", "plaque %"),
])
def test_words_it_cannot_place_are_refused_not_dropped(phrase, words):
    with pytest.raises(QueryError, match=f"not understood: {re.escape(words)} "):
        parse_query(phrase, NOW)


def test_a_like_id_beyond_what_the_catalog_holds_is_refused():
    with pytest.raises(UsageError, match="sighting id #99999999999999999999 is not a sighting"):
        parse_query("comme #99999999999999999999", NOW)


def test_like_sighting():
    q = parse_query("voiture rouge comme #1234", NOW)
    assert q.like == 1234 and q.colours == ("red",) and q.types == ("car",)
    assert parse_query("similar to #7", NOW).like == 7


def test_relative_days_follow_the_injected_now():
    later = parse_query("hier", datetime(2024, 3, 1, 10, tzinfo=timezone.utc))
    assert utc_to_local(later.windows[0].start, later.tz) == datetime(2024, 2, 29)


def test_times_are_read_in_the_given_zone():
    q = parse_query("hier 8h-9h", NOW, "America/New_York")
    assert q.windows[0].start == datetime(2023, 1, 30, 13, 0)  # 8:00 EST is 13:00 UTC
    paris = parse_query("hier 8h-9h", NOW)
    assert paris.windows[0].start == datetime(2023, 1, 30, 7, 0)


def test_summer_time_is_applied():
    q = parse_query("le 15/07/2023 14h-16h", NOW)
    assert q.windows[0].start == datetime(2023, 7, 15, 12, 0)


def test_flags_override_the_text():
    q = parse_query("camionnette blanche caméra 3 hier 8h-9h AB123CD", NOW)
    merged = merge_flags(q, cameras=["12"], start=datetime(2023, 1, 29, 10), end=datetime(2023, 1, 29, 11),
                         types=["camion"], colours=["rouge", "blue"], plate="EF-4?6-GH")
    assert merged.cameras == ("12",) and merged.types == ("truck",)
    assert merged.colours == ("red", "blue") and merged.plate.pattern == "EF4?6GH"
    assert [(w.start, w.end) for w in merged.windows] == [(datetime(2023, 1, 29, 9), datetime(2023, 1, 29, 10))]
    assert merge_flags(q).cameras == ("3",)  # no flag: the text stands
    with pytest.raises(QueryError, match="colour"):
        merge_flags(q, colours=["fluo"])
    with pytest.raises(QueryError, match="after"):
        merge_flags(q, start=datetime(2023, 1, 29, 11), end=datetime(2023, 1, 29, 10))


def test_describe_says_what_was_understood():
    text = describe(parse_query("camionnette blanche caméra 3 hier 8h-9h AB-1?3-*", NOW))
    assert text == ("camera 3 · 30/01/2023 08:00-09:00 (Europe/Paris) · van first, other "
                    "types after (not a filter) · white (ranked by colour likelihood, not a "
                    "filter) · plate AB1?3*")
    strict = merge_flags(parse_query("camionnette blanche", NOW), strict=True)
    assert describe(strict) == "van only (strict) · white only (strict)"


def test_hours_without_a_day_spread_over_the_days_a_requisition_covers():
    from relecture.search.query_time import on_days

    q = parse_query("entre 14h et 16h", NOW)
    # two Paris days, 31/01 08:00 UTC to 02/02 10:00 UTC: 14h-16h on 02/02 meets no range
    spans = [(datetime(2023, 1, 31, 8), datetime(2023, 2, 1, 23)),
             (datetime(2023, 2, 2, 9), datetime(2023, 2, 2, 10))]
    spread = on_days(q, spans)
    assert [d.isoformat() for d in spread.days] == ["2023-01-31", "2023-02-01"]
    assert [(w.start, w.end) for w in spread.windows] == [
        (datetime(2023, 1, 31, 13), datetime(2023, 1, 31, 15)),
        (datetime(2023, 2, 1, 13), datetime(2023, 2, 1, 15))]
    assert "on each day of the requisition: 2023-01-31, 2023-02-01" in describe(spread)
    dated = parse_query("hier entre 14h et 16h", NOW)
    assert on_days(dated, spans) == dated  # a day was given: it is kept


@pytest.mark.parametrize("phrase, types, colours, styles, travel", [
    ("break gris", ("car",), ("grey",), ("estate",), (None, None, None)),
    ("taxi", ("car",), (), ("taxi",), (None, None, None)),
    ("4x4 noir", ("car",), ("black",), ("suv",), (None, None, None)),
    ("SUV", ("car",), (), ("suv",), (None, None, None)),
    ("jeep", ("car",), (), ("suv",), (None, None, None)),
    ("dépanneuse", ("truck",), (), ("tow_truck",), (None, None, None)),
    ("tow truck", ("truck",), (), ("tow_truck",), (None, None, None)),
    ("camion poubelle", ("truck",), (), ("garbage_truck",), (None, None, None)),
    ("benne à ordures", ("truck",), (), ("garbage_truck",), (None, None, None)),
    ("camion de pompiers rouge", ("truck",), ("red",), ("fire_engine",), (None, None, None)),
    ("monospace", ("van",), (), ("minivan",), (None, None, None)),
    ("cabriolet", ("car",), (), ("convertible",), (None, None, None)),
    ("ambulance blanche", ("van",), ("white",), ("ambulance",), (None, None, None)),
    ("scooter", ("motorcycle",), (), ("scooter",), (None, None, None)),
    ("voiture de police", ("car",), (), ("police",), (None, None, None)),
    ("voiture qui s'éloigne", ("car",), (), (), ("away", None, None)),
    ("voiture qui s’approche", ("car",), (), (), ("towards", None, None)),
    ("sortant à gauche", (), (), (), (None, None, "left")),
    ("entrant par la droite", (), (), (), (None, "right", None)),
    ("towards the camera", (), (), (), ("towards", None, None)),
    ("away from the camera", (), (), (), ("away", None, None)),
    ("van leaving left", ("van",), (), (), (None, None, "left")),
    ("car exiting right", ("car",), (), (), (None, None, "right")),
    ("de gauche à droite", (), (), (), (None, "left", "right")),
    ("taxi qui s'éloigne sortant par le haut", ("car",), (), ("taxi",), ("away", None, "top")),
])
def test_body_styles_and_directions(phrase, types, colours, styles, travel):
    q = parse_query(phrase, NOW)
    assert (q.types, q.colours, q.styles) == (types, colours, styles), describe(q)
    assert (q.travel.motion, q.travel.entry, q.travel.exit) == travel, describe(q)
    assert q.text == () and q.windows == () and q.cameras == ()


def test_times_and_cameras_still_read_beside_a_direction():
    q = parse_query("voiture qui s'éloigne caméra 3 vers 14h", NOW)
    assert q.cameras == ("3",) and len(q.windows) == 1 and q.travel.motion == "away"


def test_two_directions_are_refused():
    with pytest.raises(QueryError, match="two directions"):
        parse_query("qui s'éloigne ou s'approche", NOW)
    with pytest.raises(QueryError, match="two exit sides"):
        parse_query("sortant à gauche sortant à droite", NOW)


def test_describe_says_style_and_direction_rank_unless_strict():
    q = parse_query("break qui s'éloigne", NOW)
    assert describe(q) == ("car first, other types after (not a filter) · body estate (ranked "
                           "by style likelihood, not a filter) · away from the camera (ranked "
                           "by direction of travel, not a filter)")
    strict = merge_flags(q, strict=True)
    assert describe(strict) == ("car only (strict) · body estate only (strict) · away from the "
                                "camera only (strict)")
