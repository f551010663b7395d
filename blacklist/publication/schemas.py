"""What the public API takes and gives (API.md, public part), as marshmallow schemas.

The query schemas only document the parameters and pass them through as text: ``queries.parse_query``
checks them, so the public pages and the API refuse the same things with the same messages (a page
number that is not a number included). Unknown query parameters are ignored (webargs' default for
the query string, as in the staff API); a search without a name or number is refused all the same.

The response schemas are the whole of what leaves the system: the Art. 6 fields of a published
listing, ID numbers masked, organisations' credit codes whole (DOMAIN.md §6). Never the creditor,
a full ID number, the birth date, or a row id.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, pre_dump

from blacklist.listing.rules import PerformanceStatus, PersonRole, SubjectKind
from blacklist.publication.queries import DEFAULT_PER_PAGE, MAX_PER_PAGE, Statistics
from blacklist.web.schemas import Schema, length

NAME_MAX = 100  # core.names.MAX_NAME_LENGTH
NUMBER_MAX = 32  # an ID number or credit code as typed (spaces, full-width characters)


def _integer_text(description: str, default: int, maximum: int | None = None) -> fields.String:
    """A positive integer, documented as one but passed on as typed: ``parse_query`` checks it."""
    metadata: dict[str, Any] = {
        "type": "integer",
        "minimum": 1,
        "default": default,
        "description": description,
    }
    if maximum is not None:
        metadata["maximum"] = maximum
    return fields.String(metadata=metadata)


# --------------------------------------------------------------------------------------------------
# Requests


class PublicSearchArgs(Schema):
    """A public search: a name (2+ characters) or an exact ID number / credit code is required."""

    name = fields.String(
        validate=length(max=NAME_MAX),
        metadata={
            "description": "被执行人姓名或名称（至少2个字；自然人须完整姓名，单位名称可输入其中3个字以上）",
            "example": "张三",
        },
    )
    id_number = fields.String(
        validate=length(max=NUMBER_MAX),
        metadata={
            "description": "完整的身份证号码（18位或15位）或统一社会信用代码",
            "example": "11010519900101123X",
        },
    )
    province = fields.String(
        validate=length(max=16),
        metadata={"description": "执行法院所在省份（如“北京”）", "example": "北京"},
    )
    page = _integer_text("页码（最多翻到前500条结果）", 1)
    per_page = _integer_text(f"每页条数（最多{MAX_PER_PAGE}）", DEFAULT_PER_PAGE, MAX_PER_PAGE)


# --------------------------------------------------------------------------------------------------
# Responses


def _money(description: str, **kwargs: Any) -> fields.Decimal:
    """Money out: a decimal string with two places (API.md)."""
    return fields.Decimal(
        as_string=True,
        places=2,
        metadata={"example": "100000.00", "description": description},
        **kwargs,
    )


class PublicListingSchema(Schema):
    """A published listing as the public sees it (Art. 6, API.md)."""

    public_id = fields.String(metadata={"description": "公开编号"})
    kind = fields.String(metadata={"enum": [k.value for k in SubjectKind]})
    name = fields.String(metadata={"description": "被执行人姓名或名称"})
    sex = fields.String(
        allow_none=True, metadata={"enum": ["male", "female"], "description": "自然人：性别"}
    )
    age = fields.Integer(allow_none=True, metadata={"description": "自然人：年龄（周岁）"})
    id_number_masked = fields.String(
        allow_none=True,
        metadata={
            "description": "自然人：身份证号码（隐去出生月日）",
            "example": "1101051990****123X",
        },
    )
    credit_code = fields.String(
        allow_none=True, metadata={"description": "法人或其他组织：统一社会信用代码"}
    )
    legal_representative = fields.String(
        allow_none=True, metadata={"description": "法人或其他组织：法定代表人或负责人姓名"}
    )
    court = fields.String(metadata={"description": "执行法院"})
    province = fields.String(metadata={"description": "执行法院所在省份"})
    case_number = fields.String(metadata={"description": "执行案号"})
    filed_on = fields.Date(metadata={"description": "立案时间"})
    basis_document_number = fields.String(metadata={"description": "执行依据文号"})
    basis_issuer = fields.String(metadata={"description": "作出执行依据单位"})
    obligation = fields.String(metadata={"description": "生效法律文书确定的义务"})
    performance = fields.String(
        metadata={
            "enum": [s.value for s in PerformanceStatus],
            "description": "履行情况：none 全部未履行，partial 部分未履行，full 全部履行",
        }
    )
    performed_amount = _money("已履行金额")
    unperformed_amount = _money("未履行金额（非金钱义务为 null）", allow_none=True)
    conduct = fields.List(
        fields.String(),
        metadata={
            "description": "失信被执行人行为具体情形",
            "example": ["有履行能力而拒不履行生效法律文书确定义务"],
        },
    )
    published_on = fields.Date(metadata={"description": "发布时间"})


class PublicListingPageSchema(Schema):
    items = fields.List(fields.Nested(PublicListingSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer(metadata={"description": "匹配条数（最多计500条）"})


class RestrictedPersonSchema(Schema):
    """A person or organisation bound by a consumption restriction order (限制消费人员), and why."""

    name = fields.String()
    kind = fields.String(metadata={"enum": [k.value for k in SubjectKind]})
    role = fields.String(metadata={"enum": [r.value for r in PersonRole]})
    role_label = fields.String(metadata={"example": "法定代表人"})
    id_number_masked = fields.String(
        attribute="id_masked",
        metadata={"description": "身份证号码（隐去出生月日）；单位为统一社会信用代码"},
    )
    debtor_name = fields.String(metadata={"description": "被执行人"})
    court = fields.String()
    province = fields.String()
    case_number = fields.String()
    since = fields.Date(metadata={"description": "限制消费起始日期"})
    measures = fields.List(
        fields.String(), metadata={"description": "限制的消费行为", "example": ["乘坐飞机"]}
    )
    listing_public_id = fields.String(
        allow_none=True, metadata={"description": "所依据的公布中名单编号（如有）"}
    )
    order_public_id = fields.String(
        allow_none=True, metadata={"description": "未纳入名单时所依据的限制消费令编号"}
    )


class RestrictedPageSchema(Schema):
    items = fields.List(fields.Nested(RestrictedPersonSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer(metadata={"description": "匹配条数（最多计500条）"})


class TotalsSchema(Schema):
    published = fields.Integer(metadata={"description": "名单内现有条数"})
    persons = fields.Integer(metadata={"description": "其中自然人"})
    organisations = fields.Integer(metadata={"description": "其中法人或其他组织"})
    restricted_people = fields.Integer(metadata={"description": "被限制消费的人员和单位数"})


class ProvinceCountSchema(Schema):
    province = fields.String()
    count = fields.Integer()


class MonthCountSchema(Schema):
    month = fields.String(metadata={"example": "2025-03"})
    count = fields.Integer()


class MonthRemovalsSchema(Schema):
    month = fields.String(metadata={"example": "2025-03"})
    reasons = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "移出原因 → 条数", "example": {"履行完毕": 3, "撤销": 1}},
    )
    total = fields.Integer()


class HitMeasureSchema(Schema):
    code = fields.String(metadata={"example": "flight"})
    label = fields.String(metadata={"example": "乘坐飞机"})


class MonthHitsSchema(Schema):
    month = fields.String(metadata={"example": "2025-03"})
    measures = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "措施代码 → 次数", "example": {"flight": 12, "hsr_any_seat": 30}},
    )
    total = fields.Integer()


class PartnerAcksSchema(Schema):
    code = fields.String(metadata={"example": "railway"})
    name = fields.String(metadata={"example": "中国国家铁路集团有限公司"})
    acked_seq = fields.Integer(metadata={"description": "已确认执行至的变更序号（累计）"})
    acked_at = fields.AwareDateTime(allow_none=True)
    overdue_removals = fields.Integer(
        metadata={"description": "超过确认时限仍未确认的移出条数（最多计1000）"}
    )
    oldest_overdue_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "其中最早一条移出的时间"}
    )


class StatisticsSchema(Schema):
    """Current totals, published listings by province (most first), and for each of the last
    twelve months (oldest first) the new listings, the removals by reason, and the sanctions
    partner agencies reported applying (hits: a refused ticket, a rejected bid) by measure, counted
    in the month they happened (Beijing time). Counts only."""

    as_of = fields.Date()
    totals = fields.Nested(TotalsSchema)
    by_province = fields.List(fields.Nested(ProvinceCountSchema))
    new_by_month = fields.List(fields.Nested(MonthCountSchema))
    removed_by_month = fields.List(fields.Nested(MonthRemovalsSchema))
    hit_measures = fields.List(
        fields.Nested(HitMeasureSchema),
        metadata={"description": "有惩戒反馈的措施（按措施目录顺序）"},
    )
    hits_by_month = fields.List(
        fields.Nested(MonthHitsSchema),
        metadata={"description": "合作单位反馈的惩戒次数，按月、按措施"},
    )
    partners = fields.List(
        fields.Nested(PartnerAcksSchema),
        metadata={"description": "各合作单位的确认情况：移出须在时限内得到确认"},
    )

    @pre_dump
    def _shape(self, stats: Statistics, **_: Any) -> dict:
        return {
            "as_of": stats.today,
            "totals": {
                "published": stats.published,
                "persons": stats.persons,
                "organisations": stats.organisations,
                "restricted_people": stats.restricted_people,
            },
            "by_province": [{"province": p, "count": c} for p, c in stats.by_province],
            "new_by_month": [{"month": m, "count": stats.new_by_month[m]} for m in stats.months],
            "removed_by_month": [
                {
                    "month": m,
                    "reasons": stats.removed_by_month[m],
                    "total": sum(stats.removed_by_month[m].values()),
                }
                for m in stats.months
            ],
            "hit_measures": [
                {"code": code, "label": label}
                for code, label in zip(stats.hits.measures, stats.hits.labels, strict=True)
            ],
            "hits_by_month": [
                {"month": m, "measures": stats.hits.by_month[m], "total": stats.hits.total(m)}
                for m in stats.hits.months
            ],
            "partners": [vars(p) for p in stats.partners],
        }
