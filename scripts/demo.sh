#!/usr/bin/env bash
# The main job end to end on the bundled sample footage, in a throw-away catalog (demo-home/):
# index the clips, open a requisition, answer its query, export and verify an evidence package.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
. .venv/bin/activate
export RELECTURE_HOME="$PWD/demo-home" RELECTURE_USER="${RELECTURE_USER:-demo.operator}"
rm -rf demo-home demo-out

echo "== 1. models"
relecture models
# The clips are named (and their burnt-in clocks show) 30 January 2023, long past the site's
# retention, which index refuses: they are indexed as recorded yesterday, same times of day.
day=$(python -c 'import datetime; print(datetime.date.today() - datetime.timedelta(days=1))')
echo "== 2. index the sample footage (camera 12 and camera 3), dated yesterday ($day)"
# --settle 0: the bundled clips are complete (no recorder is writing them).
relecture index sample_footage/CAM12_20230130T140000.mp4 --start "${day}T14:00:00" --settle 0
relecture index sample_footage/CAM03_20230130T140215.mp4 --start "${day}T14:02:15" --settle 0
relecture index sample_footage/cam12/2023-01-30/14-05-00.mp4 --start "${day}T14:05:00" --settle 0
echo "== 3. open the requisition (a fresh home makes the acting user operator and investigator)"
relecture requisition open "PV 2023/000130" --type 77-1-1 \
  --magistrate "Mme Martin, procureure" --officer 1234567 --service "SR Reims" \
  --reason "vol de véhicule" --camera 12 --camera 3 \
  --from "${day}T13:00" --to "${day}T16:00"
echo "== 3b. place cameras 12 and 3 in site.toml (Reims, about 1.1 km apart): journeys check travel times"
cat >> demo-home/site.toml <<'TOML'

[cameras.12]
latitude = 49.2535
longitude = 4.0290
label = "place Drouet-d'Erlon"

[cameras.3]
latitude = 49.2580
longitude = 4.0420
label = "boulevard de la Paix"
TOML
echo "== 4. what the requisition asks, in the investigator's words"
relecture search "voiture rouge caméra 12 hier entre 14h et 15h" -r "PV 2023/000130"
relecture search "plaque ER-9?5-*" -r "PV 2023/000130"
relecture search "voiture blanche caméra 12 hier 14h-15h" -r "PV 2023/000130" \
  --json > demo-search.json
relecture search "voitures caméras 3, 12 hier" -r "PV 2023/000130" --html demo-contact-sheet.html
echo "== 4b. the red car's journey across cameras: camera 12 at 14:00, camera 3 at 14:02"
relecture search "plaque GH-482-KT caméra 12" -r "PV 2023/000130" --json > demo-red.json
red=$(python -c 'import json; print(json.load(open("demo-red.json"))["hits"][0]["sighting_id"])')
relecture journey "$red" -r "PV 2023/000130"
relecture journey --plate GH-482-KT -r "PV 2023/000130" --html demo-journey.html
hit=$(python -c 'import json; print(json.load(open("demo-search.json"))["hits"][0]["sighting_id"])')
echo "== 5. one sighting in detail"
relecture show "$hit" -r "PV 2023/000130"
echo "== 5b. synopsis of camera 12, 14:00-15:00: every passage on one picture, then as a clip"
relecture synopsis -r "PV 2023/000130" --camera 12 --from "${day}T14:00" --to "${day}T15:00" \
  --out demo-synopsis.png
relecture synopsis -r "PV 2023/000130" --camera 12 --from "${day}T14:00" --to "${day}T15:00" \
  --out demo-synopsis.mp4
echo "synopsis of camera 12: demo-synopsis.png, demo-synopsis.mp4"
echo "== 6. evidence package for the magistrate, then its independent check"
relecture export -r "PV 2023/000130" --hits "$hit" --out demo-out
relecture verify demo-out
relecture audit verify
relecture audit show -r "PV 2023/000130"
echo "demo done: package in demo-out/ (open demo-out/data/report.html or report.pdf), contact sheet in demo-contact-sheet.html, journey in demo-journey.html"
