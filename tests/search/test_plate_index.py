"""The plate_grams index: plate search through it (fuzzy, patterns, fragments open at both
ends) finds exactly what the scan finds, the write paths keep it whole (add_recording,
purge), and an older catalog (plate_keys) is migrated to it on first writable open."""

from __future__ import annotations

import pytest

from relecture.catalog import Catalog
from relecture.catalog_plates import gram_code
from relecture.search import parse_query, search
from relecture.search.plate_index import gram_lookup
from relecture.search.plates import PlatePattern, canonical_plate
from relecture.settings import Home
from tests.test_catalog import make_recording, result_with_two_sightings
from tests.cli.test_cli_retention import env  # noqa: F401  (fixture)
from tests.search.test_search_engine import NOW, Catalogue

PLATE = "AB123CD"
READS = {  # read -> how it differs from PLATE
    "A8I23CO": "confusions only",
    "AB123CDX": "insertion, second half",
    "AXB123CD": "insertion, first half",
    "AB23CD": "deletion, first half",
    "AB123C": "deletion, second half",
    "AX123CD": "substitution, first half",
    "AB123XD": "substitution, second half",
}
FAR = ("XB123XD", "AB12", "CD123AB", "AB9X3CD")  # two real edits, or no resemblance


class Spy:
    """The catalog's connection, recording every statement run through it."""

    def __init__(self, db):
        self.db, self.sql = db, []

    def execute(self, sql, *args):
        self.sql.append(sql)
        return self.db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self.db, name)


def scanned(spy: Spy) -> bool:
    return any("FROM plate_reads p WHERE" in s for s in spy.sql)


@pytest.fixture
def cat(tmp_path):
    c = Catalogue(tmp_path / "home")
    for read in [*READS, *FAR]:
        c.add(plate=PLATE if read == "A8I23CO" else None, reads=[(read, 0.8)])
    for i in range(40):  # noise sharing the anchors, and not
        c.add(plate=f"AB{i:03d}ZZ", reads=[(f"QQ{i:03d}CD", 0.7)])
    yield c
    c.cat.close()


def run(catalogue, text):
    return search(catalogue.cat, parse_query(text, NOW), 500)


def found(result) -> dict:
    return {h.matched_read: h.plate_distance for h in result.hits}


def test_every_kind_of_misread_is_found_through_the_index(cat):
    spy = Spy(cat.cat.db)
    cat.cat.db = spy
    scan = run(cat, "plaque AB-123-CD")  # rows written by SQL after the open: not yet indexed
    assert scanned(spy)
    cat.cat.sync_plate_grams()
    spy.sql.clear()
    indexed = run(cat, "plaque AB-123-CD")
    lookup = gram_lookup(PlatePattern.parse("AB-123-CD"))
    assert lookup.grams == ("123", "^A8")  # one edit: two of ^A8 123 C0$, unanchored first
    assert not scanned(spy) and any(all(f"WHERE gram = {gram_code(g)} " in s
                                        for g in lookup.grams) for s in spy.sql)
    assert set(found(indexed)) >= {PLATE, *READS} - {"A8I23CO"}
    assert not set(found(indexed)) & set(FAR)
    assert [(h.sighting_id, h.matched_read, h.plate_distance) for h in indexed.hits] == \
        [(h.sighting_id, h.matched_read, h.plate_distance) for h in scan.hits]
    assert indexed.total == scan.total


@pytest.mark.parametrize("typed", ["AB-123-CD", "AB-1?3-CD", "AB1?3*", "*23CD", "A8I23C0",
                                   "*123*", "XAB123CD", "QQ00?CD", "AB0*", "AB*", "*3CD",
                                   "*012*", "QQ0*CD"])
def test_index_and_scan_agree(cat, typed):
    spy = Spy(cat.cat.db)
    cat.cat.db = spy
    before = run(cat, f"plaque {typed}")
    cat.cat.sync_plate_grams()
    spy.sql.clear()
    after = run(cat, f"plaque {typed}")
    assert not scanned(spy)  # every one of these patterns has a lookup
    assert [(h.sighting_id, h.matched_read, h.plate_distance) for h in after.hits] == \
        [(h.sighting_id, h.matched_read, h.plate_distance) for h in before.hits]
    assert after.total == before.total


@pytest.mark.parametrize("typed", ["*123*", "AB*", "AB-1?3-CD", "AB-123-CD"])
def test_a_short_first_page_from_the_index_is_the_scans(cat, typed):
    # exact reads counted and ranked in SQL (confidence, then time: the ties here), the
    # approximate ones scored in Python: the first page and the count must be the scan's
    for minute, conf in enumerate([0.95, 0.6, 0.95, 0.99, 0.3, None, 0.95]):
        cat.add(utc=(2023, 1, 30, 6, 50 - minute), reads=[("AB123CD", conf), ("A8123CD", 0.97)])
    for micro in (900_000, 100_000, 500_000):  # one second, one confidence: the index's times
        cat.add(utc=(2023, 1, 30, 6, 40, 7, micro), reads=[("AB123CD", 0.95)])  # tie there
    before = [search(cat.cat, parse_query(f"plaque {typed}", NOW), n) for n in (1, 2, 5, 6, 7, 9)]
    cat.cat.sync_plate_grams()
    after = [search(cat.cat, parse_query(f"plaque {typed}", NOW), n) for n in (1, 2, 5, 6, 7, 9)]
    for b, a in zip(before, after):
        assert [(h.sighting_id, h.matched_read, h.plate_distance, h.reasons) for h in a.hits] == \
            [(h.sighting_id, h.matched_read, h.plate_distance, h.reasons) for h in b.hits]
        assert a.total == b.total > len(a.hits)


@pytest.mark.parametrize("literal_ids", [2000, 0])
@pytest.mark.parametrize("typed", ["*123*", "AB*", "AB-123-CD"])
def test_a_filtered_first_page_from_the_index_is_the_scans(cat, typed, literal_ids, monkeypatch):
    # a camera (as a requisition's scope would) filters the candidates: looked up by id when
    # few, else joined inside the index's SQL (exact ones) and checked after scoring (the
    # others): page and count must be the scan's either way
    from relecture.search import plate_candidates

    monkeypatch.setattr(plate_candidates, "_LITERAL_IDS", literal_ids)
    for minute in range(6):
        cat.add(camera="12" if minute % 2 else "3", utc=(2023, 1, 30, 6, 50 - minute),
                reads=[("AB123CD", 0.9), ("A8I23CD", 0.95)])
    texts = [f"caméra 3 plaque {typed}", f"caméra 12 plaque {typed}"]
    before = [search(cat.cat, parse_query(t, NOW), n) for t in texts for n in (1, 3, 50)]
    cat.cat.sync_plate_grams()
    after = [search(cat.cat, parse_query(t, NOW), n) for t in texts for n in (1, 3, 50)]
    for b, a in zip(before, after):
        assert [(h.sighting_id, h.matched_read, h.plate_distance, h.reasons) for h in a.hits] == \
            [(h.sighting_id, h.matched_read, h.plate_distance, h.reasons) for h in b.hits]
        assert a.total == b.total
    assert {h.camera for h in after[-1].hits} == {"12"} and after[-1].total == 3


def test_many_candidates_ranked_by_colour_are_read_alike(cat, monkeypatch):
    # past plate_candidates._LITERAL_IDS candidates, `where` and the ranking columns are
    # read in one semi-join over the sightings instead of a lookup by literal ids
    from relecture.search import plate_candidates

    for _ in range(3):  # another camera, within camera 3's ids: `where` must leave them out
        cat.add(camera="12", reads=[("ZZ123ZZ", 0.99)])
    cat.add(camera="3", reads=[("ZZ123ZZ", 0.99)])
    cat.cat.sync_plate_grams()
    text = "voiture rouge caméra 3 plaque *123*"
    by_literals = run(cat, text)
    monkeypatch.setattr(plate_candidates, "_LITERAL_IDS", 0)
    by_join = run(cat, text)
    assert by_join.total == by_literals.total > 5
    assert [(h.sighting_id, h.matched_read, h.colour_p) for h in by_join.hits] == \
        [(h.sighting_id, h.matched_read, h.colour_p) for h in by_literals.hits]
    assert {h.camera for h in by_join.hits} == {"3"}


def test_a_fragment_open_at_both_ends_returns_exactly_the_plates_holding_it(cat):
    cat.cat.sync_plate_grams()
    result = run(cat, "plaque *012*")
    texts = cat.cat.db.execute("SELECT sighting_id, plate FROM sightings WHERE plate IS NOT NULL "
                               "UNION SELECT sighting_id, text FROM plate_reads").fetchall()
    pattern = PlatePattern.parse("*012*")
    want = {sid for sid, text in texts if pattern.match(text, 0.5) is not None}
    assert {h.sighting_id for h in result.hits} == want and result.total == len(want)
    # "012" itself first, then its OCR confusions: "01Z" (AB001ZZ), "D12" (CD123AB)
    assert [(h.matched_read, h.plate_distance) for h in result.hits][:1] == [("AB012ZZ", 0.0)]
    assert {"AB001ZZ", "CD123AB"} <= {h.matched_read for h in result.hits}
    assert "AB013ZZ" not in {h.matched_read for h in result.hits}


def test_rows_past_the_coverage_mark_are_still_scanned(cat):
    cat.cat.sync_plate_grams()
    late = cat.add(plate=None, reads=[("AB123CE", 0.9)])  # written by SQL after the sync
    assert late in [h.sighting_id for h in run(cat, "plaque AB-123-CD").hits]


def test_lookups_are_sound_on_random_reads():
    """Every read offered for a pattern holds the grams its lookup asks for."""
    import random

    rng = random.Random(7)
    alphabet = "AB0OD8123ILZ5SCXY"
    for _ in range(3000):
        plate = "".join(rng.choice(alphabet) for _ in range(rng.choice([5, 6, 7, 8])))
        typed = list(plate)
        for _ in range(rng.choice([0, 1])):
            typed[rng.randrange(len(typed))] = "?"
        if rng.random() < 0.3:
            typed = typed[: rng.randrange(3, len(typed))] + ["*"]
        pattern = PlatePattern.parse("".join(typed))
        lookup = gram_lookup(pattern)
        if lookup is None:
            continue
        read = list(plate)
        op = rng.choice(["conf", "sub", "ins", "del", "none"])
        i = rng.randrange(len(read))
        if op == "conf":
            read[i] = {"B": "8", "0": "O", "1": "I", "5": "S"}.get(read[i], read[i])
        elif op == "sub":
            read[i] = rng.choice(alphabet)
        elif op == "ins":
            read.insert(i, rng.choice(alphabet))
        elif op == "del":
            del read[i]
        text = "".join(read)
        if pattern.match(text, 0.5) is None:
            continue
        key = "^" + canonical_plate(text) + "$"
        assert any(g in key for g in lookup.grams), (pattern.pattern, text, lookup)


def test_add_recording_fills_the_index_in_its_transaction(tmp_path):
    res = result_with_two_sightings()
    with Catalog(Home(tmp_path / "h")) as cat:
        ids = cat.add_recording(make_recording(tmp_path), list(res.sightings), [], "job", 60, 10)
        texts = cat.db.execute(
            "SELECT text, sighting_id FROM plate_reads UNION SELECT plate, sighting_id "
            "FROM sightings WHERE plate IS NOT NULL").fetchall()
        want = {(gram_code(key[i:i + 3]), t, sid) for t, sid in texts
                for key in ["^" + canonical_plate(t) + "$"] for i in range(len(key) - 2)}
        got = set(cat.db.execute("SELECT gram, text, sighting_id FROM plate_grams").fetchall())
        covered = cat.db.execute("SELECT covered_to FROM plate_grams_coverage").fetchall()
    assert want and got == want
    assert covered == [(max(ids),)]


def test_purge_removes_the_keys_of_purged_sightings(env):  # noqa: F811
    from tests.cli_builders import cli

    home = env["home"]
    assert cli(home, "purge").exit_code == 0
    with Catalog(Home(home), read_only=True) as cat:
        keyed = {r[0] for r in cat.db.execute("SELECT sighting_id FROM plate_grams").fetchall()}
        left = {r[0] for r in cat.db.execute("SELECT sighting_id FROM sightings").fetchall()}
    assert keyed and keyed <= left and env["sid"] not in keyed


def test_a_catalog_from_before_the_gram_index_is_migrated_on_first_writable_open(tmp_path):
    c = Catalogue(tmp_path / "home")
    c.add(plate=PLATE, reads=[("AB123C0", 0.8)])
    c.add(plate=None, reads=[("AX123CD", 0.7)])
    c.add(plate=None, reads=[("QQ512ZZ", 0.7)])
    db = c.cat.db
    db.execute("DROP TABLE plate_grams")
    db.execute("DROP TABLE plate_grams_coverage")  # as created by an older version:
    db.execute("CREATE TABLE plate_keys (key VARCHAR, p3 VARCHAR, s3 VARCHAR, sighting_id BIGINT)")
    db.execute("CREATE INDEX plate_keys_p3 ON plate_keys (p3)")
    db.execute("CREATE TABLE plate_keys_coverage (covered_to BIGINT NOT NULL)")
    db.execute("CREATE INDEX sightings_camera_time ON sightings (camera, first_utc)")
    c.cat.close()
    home = Home(tmp_path / "home")
    with Catalog(home, read_only=True) as cat:  # no gram index yet: the scan still answers
        old = [search(cat, parse_query(f"plaque {p}", NOW), 50) for p in ("AB-123-CD", "*512*")]
    with Catalog(home) as cat:
        assert cat.db.execute("SELECT count(DISTINCT sighting_id) FROM plate_grams").fetchone() == (3,)
        assert cat.db.execute("SELECT covered_to FROM plate_grams_coverage").fetchall() == [(3,)]
        tables = {r[0] for r in cat.db.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        indexes = cat.db.execute("SELECT count(*) FROM duckdb_indexes()").fetchone()[0]
    assert "plate_keys" not in tables and "plate_keys_coverage" not in tables and indexes == 0
    with Catalog(home, read_only=True) as cat:
        new = [search(cat, parse_query(f"plaque {p}", NOW), 50) for p in ("AB-123-CD", "*512*")]
    assert [[h.sighting_id for h in r.hits] for r in new] == \
        [[h.sighting_id for h in r.hits] for r in old] == [[1, 2], [3]]


def test_an_index_of_text_grams_is_scanned_past_then_rebuilt_on_first_writable_open(tmp_path):
    c = Catalogue(tmp_path / "home")
    c.add(plate=PLATE, reads=[("AB123C0", 0.8)])
    c.add(plate=None, reads=[("QQ512ZZ", 0.7)])
    db = c.cat.db
    db.execute("DROP TABLE plate_grams")  # the layout of 4 December 2026 and before
    db.execute("CREATE TABLE plate_grams (gram VARCHAR NOT NULL, sighting_id BIGINT NOT NULL, "
               "text VARCHAR NOT NULL, confidence REAL, first_utc TIMESTAMP)")
    db.execute("INSERT INTO plate_grams VALUES ('^A8', 1, 'AB123C0', 0.8, NULL)")
    db.execute("DELETE FROM plate_grams_coverage")
    db.execute("INSERT INTO plate_grams_coverage VALUES (2, 2)")
    c.cat.close()
    home = Home(tmp_path / "home")
    with Catalog(home, read_only=True) as cat:  # its grams cannot be looked up: scanned
        spy = Spy(cat.db)
        cat.db = spy
        old = [search(cat, parse_query(f"plaque {p}", NOW), 50) for p in ("AB-123-CD", "*512*")]
        assert scanned(spy)
    with Catalog(home) as cat:
        assert cat.db.execute("SELECT DISTINCT typeof(gram) FROM plate_grams").fetchall() == \
            [("USMALLINT",)]
        assert cat.db.execute("SELECT count(DISTINCT sighting_id) FROM plate_grams").fetchone() == (2,)
    with Catalog(home, read_only=True) as cat:
        spy = Spy(cat.db)
        cat.db = spy
        new = [search(cat, parse_query(f"plaque {p}", NOW), 50) for p in ("AB-123-CD", "*512*")]
        assert not scanned(spy)
    assert [[h.sighting_id for h in r.hits] for r in new] == \
        [[h.sighting_id for h in r.hits] for r in old] == [[1], [2]]


def test_small_syncs_are_rewritten_sorted_and_answer_the_same(tmp_path, monkeypatch):
    from relecture import catalog_plates

    monkeypatch.setattr(catalog_plates, "COMPACT_AFTER", 3)
    c = Catalogue(tmp_path / "home")
    plates = ["AB123CD", "AB123CE", "ZZ999ZZ", "AX123CD", "QQ123QQ", "AB128CD", "AB123C0"]
    marks = []
    for plate in plates:  # one sync per sighting, as the loader syncs once per file
        c.add(plate=plate, reads=[(plate, 0.8)])
        c.cat.sync_plate_grams()
        marks.append(c.cat.db.execute("SELECT covered_to, sorted_to FROM plate_grams_coverage"
                                      ).fetchone())
    assert marks == [(1, 0), (2, 0), (3, 3), (4, 3), (5, 3), (6, 6), (7, 6)]
    stored = c.cat.db.execute("SELECT gram, sighting_id FROM plate_grams").fetchall()
    runs = [[g for g, sid in stored if lo < sid <= hi] for lo, hi in ((0, 3), (3, 6))]
    assert all(run == sorted(run) for run in runs)  # each rewritten run is in gram order
    got = {p: [h.sighting_id for h in run(c, f"plaque {p}").hits] for p in ("AB-123-CD", "*123*")}
    assert got == {"AB-123-CD": [1, 7, 2, 4, 6], "*123*": [1, 2, 4, 5, 7]}
    c.cat.close()


@pytest.mark.parametrize("typed", ["*123*", "AB-123-CD", "QQ0*"])
def test_a_short_page_is_the_head_of_the_full_ranking_and_counts_every_match(cat, typed):
    cat.cat.sync_plate_grams()
    full = run(cat, f"plaque {typed}")
    page = search(cat.cat, parse_query(f"plaque {typed}", NOW), 3)
    assert full.total > 3 and page.total == full.total
    assert [h.sighting_id for h in page.hits] == [h.sighting_id for h in full.hits][:3]
