"""Courts in every province, from the administrative division codes (GB/T 2260) that python-stdnum
ships (``stdnum/cn/loc.dat``): a high people's court per province, an intermediate court per
prefecture, a basic court per county (capped per prefecture), each with the codes its case numbers
and its people's ID numbers carry. Synthetic, but shaped like the real ~3,500 courts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

#: Province code → (name as ``staff.services.PROVINCES`` spells it, abbreviation of case numbers).
PROVINCES: dict[str, tuple[str, str]] = {
    "11": ("北京", "京"), "12": ("天津", "津"), "13": ("河北", "冀"), "14": ("山西", "晋"),
    "15": ("内蒙古", "蒙"), "21": ("辽宁", "辽"), "22": ("吉林", "吉"), "23": ("黑龙江", "黑"),
    "31": ("上海", "沪"), "32": ("江苏", "苏"), "33": ("浙江", "浙"), "34": ("安徽", "皖"),
    "35": ("福建", "闽"), "36": ("江西", "赣"), "37": ("山东", "鲁"), "41": ("河南", "豫"),
    "42": ("湖北", "鄂"), "43": ("湖南", "湘"), "44": ("广东", "粤"), "45": ("广西", "桂"),
    "46": ("海南", "琼"), "50": ("重庆", "渝"), "51": ("四川", "川"), "52": ("贵州", "黔"),
    "53": ("云南", "云"), "54": ("西藏", "藏"), "61": ("陕西", "陕"), "62": ("甘肃", "甘"),
    "63": ("青海", "青"), "64": ("宁夏", "宁"), "65": ("新疆", "新"),
}  # fmt: skip

#: Basic courts per intermediate court at most (the real average is about eight).
MAX_BASIC_PER_INTERMEDIATE = 10


@dataclass(frozen=True)
class CourtSpec:
    code: str
    name: str
    province: str
    parent: str | None
    level: str  # "high", "intermediate", "basic"
    #: What its case numbers carry after the year: 京0105, 京03, 京.
    case_code: str
    #: Address codes (GB/T 2260) of the people it mostly deals with.
    address_codes: tuple[str, ...]


def _divisions() -> dict[str, dict[str, str]]:
    """province code → {6-digit code: name}, current divisions only (bracketed ones are abolished)."""
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    result: dict[str, dict[str, str]] = {}
    province = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
            result.setdefault(province, {})
            continue
        code, _, rest = line.strip().partition(" ")
        name = rest.partition('"')[2].rpartition('"')[0]
        name = name.split(",")[-1]  # "[1983-1992]郊区,[1993-]泉山区": the latest name
        if name.startswith("["):  # "[-2010]崇文区" was abolished; "[2011-]…" still exists
            period, _, name = name[1:].partition("]")
            if not period.endswith("-"):
                continue
        if province and len(code) == 4 and name:
            result[province][province + code] = name
    return result


@cache
def courts() -> tuple[CourtSpec, ...]:
    """Every court, parents before children."""
    divisions = _divisions()
    specs: list[CourtSpec] = []
    for pcode, (province, abbr) in PROVINCES.items():
        places = divisions.get(pcode, {})
        full = places.get(pcode + "0000", province)
        high = f"C{pcode}"
        counties_all = tuple(
            c for c, n in places.items() if not c.endswith("00") and n not in ("市辖区", "县")
        )
        specs.append(
            CourtSpec(high, f"{full}高级人民法院", province, None, "high", abbr, counties_all[:20])
        )
        prefectures = sorted({c[:4] for c in counties_all})
        for index, prefix in enumerate(prefectures, start=1):
            counties = [c for c in counties_all if c.startswith(prefix)]
            if not counties:
                continue
            own = places.get(prefix + "00", "")
            if own in (
                "",
                "市辖区",
                "县",
                "省直辖县级行政区划",
                "自治区直辖县级行政区划",
                "省直辖县级行政单位",
            ):
                own = f"{full}第{_CN_NUMBERS[min(index, 10)]}"
            inter = f"C{prefix}"
            specs.append(
                CourtSpec(
                    inter, f"{own}中级人民法院", province, high, "intermediate",
                    f"{abbr}{prefix[2:]}", tuple(counties),
                )
            )  # fmt: skip
            for county in counties[:MAX_BASIC_PER_INTERMEDIATE]:
                name = places[county]
                prefix_name = "" if own.startswith(full) else own.removeprefix(full)
                specs.append(
                    CourtSpec(
                        f"C{county}", f"{prefix_name}{name}人民法院", province, inter, "basic",
                        f"{abbr}{county[2:]}", (county,),
                    )
                )  # fmt: skip
    seen: set[str] = set()
    for i, spec in enumerate(specs):  # two counties of one name in a province: say which
        if spec.name in seen:
            specs[i] = replace(
                spec, name=spec.name.replace("人民法院", f"（{spec.code[1:]}）人民法院")
            )
        seen.add(specs[i].name)
    return tuple(specs)


_CN_NUMBERS = ("零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十")
