import json, re, sys
from pathlib import Path
OUT = Path(sys.argv[1])
dec = json.loads((OUT / "decisions.json").read_text())
def rows(group):
    txt = (OUT / group / "survivors.md").read_text()
    return re.findall(r"^## (\S+)  \[([^;]+); ([^;]+); ([^\]]+)\]", txt, re.M)
for group in sys.argv[2:]:
    by = {}
    for name, status, g, path in rows(group):
        d = dec.get(name, {"class": "not decided", "why": "(no decision written)"})
        key = "undecided (timed out or not all planned tests run)" if status == "undecided" else d["class"]
        by.setdefault(key, []).append((name, status, d))
    print(f"#### {group}\n")
    for cls in sorted(by):
        print(f"{cls} ({len(by[cls])}):")
        for name, status, d in by[cls]:
            short = name.replace("__mutmut_", " ")
            print(f"- `{short}` [{status}]: {d['why']}" if d["class"] != "not decided" else f"- `{short}` [{status}]")
        print()
