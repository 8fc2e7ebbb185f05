"""The plate_keys index: fuzzy plate search through it finds exactly what the scan finds, the
write paths keep it whole (add_recording, purge), and an older catalog gets it on first open."""

from __future__ import annotations

import duckdb
import pytest

from relecture.catalog import Catalog
from relecture.search import parse_query, search
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
    cat.cat.sync_plate_keys()
    spy.sql.clear()
    indexed = run(cat, "plaque AB-123-CD")
    assert not scanned(spy) and any("FROM plate_keys WHERE p3 = 'A81'" in s for s in spy.sql)
    assert set(found(indexed)) >= {PLATE, *READS} - {"A8I23CO"}
    assert not set(found(indexed)) & set(FAR)
    assert [(h.sighting_id, h.matched_read, h.plate_distance) for h in indexed.hits] == \
        [(h.sighting_id, h.matched_read, h.plate_distance) for h in scan.hits]
    assert indexed.total == scan.total


@pytest.mark.parametrize("typed", ["AB-123-CD", "AB-1?3-CD", "AB1?3*", "*23CD", "A8I23C0",
                                   "*123*", "XAB123CD", "QQ00?CD", "AB0*"])
def test_index_and_scan_agree(cat, typed):
    before = run(cat, f"plaque {typed}")
    cat.cat.sync_plate_keys()
    after = run(cat, f"plaque {typed}")
    assert [(h.sighting_id, h.matched_read, h.plate_distance) for h in after.hits] == \
        [(h.sighting_id, h.matched_read, h.plate_distance) for h in before.hits]


def test_rows_past_the_coverage_mark_are_still_scanned(cat):
    cat.cat.sync_plate_keys()
    late = cat.add(plate=None, reads=[("AB123CE", 0.9)])  # written by SQL after the sync
    assert late in [h.sighting_id for h in run(cat, "plaque AB-123-CD").hits]


def test_lookups_are_sound_on_random_reads():
    """Every read offered for a pattern has a canonical key with one of its lookups."""
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
        lookups = pattern.index_lookups()
        if lookups is None:
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
        key = canonical_plate(text)
        p3, s3 = lookups
        assert (p3 is not None and key[:3] == p3) or (s3 is not None and key[::-1][:3] == s3), \
            (pattern.pattern, text, lookups)


def test_add_recording_fills_the_index_in_its_transaction(tmp_path):
    res = result_with_two_sightings()
    with Catalog(Home(tmp_path / "h")) as cat:
        ids = cat.add_recording(make_recording(tmp_path), list(res.sightings), [], "job", 60, 10)
        want = {(canonical_plate(t), i) for t, i in cat.db.execute(
            "SELECT text, sighting_id FROM plate_reads UNION SELECT plate, sighting_id "
            "FROM sightings WHERE plate IS NOT NULL").fetchall()}
        got = set(cat.db.execute("SELECT key, sighting_id FROM plate_keys").fetchall())
        covered = cat.db.execute("SELECT covered_to FROM plate_keys_coverage").fetchall()
    assert want and got == want
    assert covered == [(max(ids),)]


def test_purge_removes_the_keys_of_purged_sightings(env):  # noqa: F811
    from tests.cli_builders import cli

    home = env["home"]
    assert cli(home, "purge").exit_code == 0
    with Catalog(Home(home), read_only=True) as cat:
        keyed = {r[0] for r in cat.db.execute("SELECT sighting_id FROM plate_keys").fetchall()}
        left = {r[0] for r in cat.db.execute("SELECT sighting_id FROM sightings").fetchall()}
    assert keyed and keyed <= left and env["sid"] not in keyed


def test_a_catalog_from_before_the_index_is_backfilled_on_first_writable_open(tmp_path):
    c = Catalogue(tmp_path / "home")
    c.add(plate=PLATE, reads=[("AB123C0", 0.8)])
    c.add(plate=None, reads=[("AX123CD", 0.7)])
    c.cat.db.execute("DROP TABLE plate_keys")
    c.cat.db.execute("DROP TABLE plate_keys_coverage")  # as created by an older version
    c.cat.close()
    home = Home(tmp_path / "home")
    with Catalog(home, read_only=True) as cat:  # no index yet: the scan still answers
        old = search(cat, parse_query("plaque AB-123-CD", NOW), 50)
        with pytest.raises(duckdb.CatalogException):
            cat.db.execute("SELECT * FROM plate_keys")
    with Catalog(home) as cat:
        assert cat.db.execute("SELECT count(*), count(DISTINCT sighting_id) FROM plate_keys"
                              ).fetchone() == (2, 2)  # a confusion: same key
        assert cat.db.execute("SELECT covered_to FROM plate_keys_coverage").fetchall() == [(2,)]
    with Catalog(home, read_only=True) as cat:
        new = search(cat, parse_query("plaque AB-123-CD", NOW), 50)
    assert [h.sighting_id for h in new.hits] == [h.sighting_id for h in old.hits] == [1, 2]
