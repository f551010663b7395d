"""The public pages through HTTP, as an anonymous visitor uses them (DOMAIN.md §6, Art. 6): search
by name or number, the record page, the restricted people, statistics, bad input, rate limits and
caching. Listings are made through the listing services; the test ``session`` commits before the
app is called (on SQLite an open transaction would hold the write lock)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html import unescape

import pytest

from blacklist.listing import services
from blacklist.listing.inputs import PaymentIn, PersonIn
from blacklist.publication.queries import clear_statistics_cache
from tests.factories import (
    credit_code,
    organisation_draft,
    person_draft,
    publish_listing,
    resident_id,
    resident_id_ending_in_x,
)

PERSON_ID = resident_id("19800101", "123")
MASKED_PERSON_ID = PERSON_ID[:10] + "****" + PERSON_ID[14:]
REPRESENTATIVE_ID = resident_id("19700505", "235")
MASKED_REPRESENTATIVE_ID = REPRESENTATIVE_ID[:10] + "****" + REPRESENTATIVE_ID[14:]
NOT_ON_THE_LIST = "该记录不在失信被执行人名单中"
NOTHING_FOUND = "未查询到"

_case_numbers = iter(range(3000, 9999))


def publish(session, clock, court, draft=None) -> str:
    """Publish a listing and commit; returns its public id."""
    listing = publish_listing(session, clock, court, draft or person_draft(id_number=PERSON_ID))
    public_id = listing.public_id
    session.commit()
    return public_id


def person(name: str, id_number: str, **kwargs):
    """A person's draft with its own case number (a debtor may be listed once per case)."""
    kwargs.setdefault("case_number", f"(2024)京0105执{next(_case_numbers)}号")
    return person_draft(name=name, id_number=id_number, **kwargs)


def listing_id_of(session, public_id: str) -> int:
    from sqlalchemy import select

    from blacklist.listing.models import Listing

    listing_id = session.scalar(select(Listing.id).where(Listing.public_id == public_id))
    session.commit()
    return listing_id


def text_of(response) -> str:
    return response.get_data(as_text=True)


def search(client, path: str = "/search", **params):
    return client.get(path, query_string=params)


def result_links(response) -> list[str]:
    """The record pages the results link to."""
    return sorted(set(re.findall(r'href="(/listings/[^"]+)"', text_of(response))))


def field_error(response, field: str) -> str:
    """The message shown beside a form field ("" when none)."""
    match = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', text_of(response))
    return unescape(match.group(1)) if match else ""


# --------------------------------------------------------------------------------------------------
# Home and search


def test_the_home_page_offers_a_search_form_in_chinese(client):
    response = client.get("/")
    assert response.status_code == 200
    page = text_of(response)
    assert '<html lang="zh-CN">' in page
    assert "全国法院失信被执行人名单公示" in page and "法释〔2017〕7号" in page
    assert 'action="/search"' in page and 'method="get"' in page
    for field in ("name", "id_number", "province"):
        assert f'<label for="{field}">' in page and f'id="{field}"' in page
    assert '<option value="新疆">新疆</option>' in page
    for link in ("/restricted", "/stats", "/correction"):
        assert f'href="{link}"' in page


def test_a_person_is_found_by_exact_name_with_the_art_6_fields(client, session, clock, court):
    public_id = publish(session, clock, court)

    response = search(client, name="张三")

    assert response.status_code == 200
    page = text_of(response)
    assert result_links(response) == [f"/listings/{public_id}"]
    for shown in ("张三", "男", "45", MASKED_PERSON_ID, "BJ0105人民法院", "北京",
                  "（2024）京0105执1234号", "全部未履行", "2025-03-03"):  # fmt: skip
        assert shown in page, shown
    assert 'class="record-link"' in page
    assert response.headers["Cache-Control"] == "no-store"


def test_a_traditional_name_is_found_by_its_simplified_form_and_vice_versa(
    client, session, clock, court
):
    traditional = publish(session, clock, court, person("張偉", resident_id("19800101", "135")))
    simplified = publish(session, clock, court, person("刘强", resident_id("19800101", "157")))

    assert result_links(search(client, name="张伟")) == [f"/listings/{traditional}"]
    assert result_links(search(client, name="張偉")) == [f"/listings/{traditional}"]
    assert result_links(search(client, name="劉強")) == [f"/listings/{simplified}"]
    assert "張偉" in text_of(search(client, name="张伟"))  # shown as the court typed it


def test_an_id_number_with_full_width_digits_and_spaces_is_found(client, session, clock, court):
    public_id = publish(session, clock, court)
    full_width = PERSON_ID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    typed = f"{full_width[:6]} {full_width[6:14]}\u3000{full_width[14:]}"

    assert result_links(search(client, id_number=typed)) == [f"/listings/{public_id}"]


def test_an_id_number_with_a_lowercase_x_is_found(client, session, clock, court):
    number = resident_id_ending_in_x()
    public_id = publish(session, clock, court, person("王五", number))

    response = search(client, id_number=number.lower())

    assert result_links(response) == [f"/listings/{public_id}"]
    assert number[:10] + "****" + number[14:] in text_of(response)


def test_a_minority_name_is_found_with_and_without_the_middle_dot(client, session, clock, court):
    public_id = publish(session, clock, court, person("阿依古丽·买买提", PERSON_ID))

    for typed in ("阿依古丽·买买提", "阿依古丽买买提", "阿依古丽•买买提", "阿依古丽 · 买买提"):
        assert result_links(search(client, name=typed)) == [f"/listings/{public_id}"], typed


def test_a_name_with_a_character_beyond_the_bmp_is_found_and_shown(client, session, clock, court):
    public_id = publish(session, clock, court, person("𠮷野家", PERSON_ID))

    response = search(client, name="𠮷野家")

    assert result_links(response) == [f"/listings/{public_id}"]
    assert "𠮷野家" in text_of(client.get(f"/listings/{public_id}"))


def test_an_organisation_is_found_by_part_of_its_name(client, session, clock, court):
    public_id = publish(session, clock, court, organisation_draft(name="北京宏达商贸有限公司"))

    assert result_links(search(client, name="宏达商贸")) == [f"/listings/{public_id}"]
    page = text_of(search(client, name="宏达商贸"))
    assert credit_code() in page and "李四" in page  # the code whole, the legal representative
    assert NOTHING_FOUND in text_of(search(client, name="宏达"))  # 2 characters: exact names only


def test_results_are_paginated_with_links_that_keep_the_query(client, session, clock, court):
    for sequence in ("111", "113", "115"):
        publish(session, clock, court, person("赵六", resident_id("19800101", sequence)))

    first = search(client, name="赵六", province="北京", per_page="2")
    second = search(client, name="赵六", province="北京", per_page="2", page="2")

    assert len(result_links(first)) == 2 and len(result_links(second)) == 1
    assert set(result_links(first)).isdisjoint(result_links(second))
    links = re.findall(r'<a href="(/search\?[^"]+)"', text_of(first))
    assert links and all("per_page=2" in link and "province=" in link for link in links)
    assert any("page=2" in link for link in links)


def test_only_published_listings_appear(client, session, clock, court):
    services.create_draft(
        session, person("钱七", resident_id("19800101", "171")), actor=court["clerk"], clock=clock
    )
    waiting = publish_listing(
        session, clock, court, person("钱七", resident_id("19800101", "173"), grace_days=30)
    )
    waiting_id = waiting.public_id
    session.commit()

    response = search(client, name="钱七")

    assert response.status_code == 200
    assert NOTHING_FOUND in text_of(response) and result_links(response) == []
    assert "仅显示当前处于公布状态的名单信息" in text_of(response)
    assert client.get(f"/listings/{waiting_id}").status_code == 404


def test_a_removed_listing_disappears_from_search_record_pages_and_statistics(
    client, session, clock, court
):
    deleted = publish(session, clock, court, person("孙八", resident_id("19800101", "191")))
    revoked = publish(session, clock, court, person("孙八", resident_id("19800101", "193")))
    publish(session, clock, court, person("周九", resident_id("19800101", "195")))
    clear_statistics_cache()
    assert 'id="total-published">3<' in text_of(client.get("/stats"))
    assert len(result_links(search(client, name="孙八"))) == 2

    services.delete_listing(
        session, listing_id_of(session, deleted), "terminated", actor=court["judge"], clock=clock
    )
    services.revoke_listing(
        session, listing_id_of(session, revoked), "错列", actor=court["judge"], clock=clock
    )
    session.commit()
    clear_statistics_cache()

    response = search(client, name="孙八")
    assert NOTHING_FOUND in text_of(response) and result_links(response) == []
    for public_id in (deleted, revoked):
        record = client.get(f"/listings/{public_id}")
        assert record.status_code == 404
        assert NOT_ON_THE_LIST in text_of(record) and "已被删除、撤销或从未公布" in text_of(record)
        assert record.headers["Cache-Control"] == "no-cache"
    stats = text_of(client.get("/stats"))
    assert 'id="total-published">1<' in stats
    assert "撤销" in stats and "终结执行" in stats  # this month's removals by reason


# --------------------------------------------------------------------------------------------------
# Privacy and hostile input


def test_id_numbers_are_masked_everywhere_and_never_shown_whole(client, session, clock, court):
    person_page = publish(session, clock, court)
    organisation = publish(
        session, clock, court,
        organisation_draft(representative=PersonIn(name="李四", id_number=REPRESENTATIVE_ID)),
    )  # fmt: skip
    clear_statistics_cache()

    pages = [
        search(client, name="张三"),
        search(client, name="某某商贸"),
        search(client, "/restricted", name="李四"),
        search(client, "/restricted", name="张三"),
        client.get(f"/listings/{person_page}"),
        client.get(f"/listings/{organisation}"),
        client.get("/stats"),
    ]
    everything = "".join(text_of(p) for p in pages)
    assert MASKED_PERSON_ID in everything and MASKED_REPRESENTATIVE_ID in everything
    assert PERSON_ID not in everything and REPRESENTATIVE_ID not in everything
    # A search by the full number shows it only in the search box the visitor typed it into.
    by_number = text_of(search(client, id_number=PERSON_ID))
    assert by_number.count(PERSON_ID) == 1 and f'value="{PERSON_ID}"' in by_number


def test_a_name_with_a_script_tag_is_shown_escaped(client, session, clock, court):
    name = "<script>alert(1)</script>"
    public_id = publish(session, clock, court, person(name, PERSON_ID))

    results = search(client, name=name)
    record = client.get(f"/listings/{public_id}")

    for response in (results, record):
        page = text_of(response)
        assert "<script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert result_links(results) == [f"/listings/{public_id}"]


@pytest.mark.parametrize("path", ["/search", "/restricted"])
def test_sql_and_markup_in_every_field_give_a_message_or_an_empty_result(
    app, client, session, clock, court, path
):
    app.config["PUBLIC_SEARCH_RATE_LIMIT"] = "100 per minute"
    publish(session, clock, court)
    hostile = (
        "' OR 1=1 --",
        "张三' OR '1'='1",
        "1; DROP TABLE listings; --",
        '"><img src=x onerror=alert(1)>',
        "%' --",
        "张\x00三",
        "_%",
    )

    for value in hostile:
        for field in ("name", "id_number", "province", "page", "per_page"):
            params = {"name": "张三", field: value} if field != "name" else {"name": value}
            response = search(client, path, **params)
            assert response.status_code in (200, 422), (field, value, response.status_code)
            page = text_of(response)
            assert "<img src=x" not in page and "\x00" not in page
            if response.status_code == 422:
                assert "查询条件有误" in page
            else:
                assert NOTHING_FOUND in page or "共找到" in page
    assert NOTHING_FOUND in text_of(search(client, path, name="' OR 1=1 --"))
    assert "共找到" in text_of(search(client, path, name="张三"))  # the tables are still there


def test_a_one_character_name_or_a_malformed_id_number_gets_a_message(client):
    short = search(client, name="张")
    malformed = search(client, id_number="11010519800101123")
    bad_check = search(client, id_number=PERSON_ID[:-1] + ("0" if PERSON_ID[-1] != "0" else "1"))
    nothing = search(client, province="北京")

    assert short.status_code == 422 and "至少2个字" in field_error(short, "name")
    assert 'value="张"' in text_of(short)
    assert malformed.status_code == 422 and field_error(malformed, "id_number")
    assert 'value="11010519800101123"' in text_of(malformed)
    assert bad_check.status_code == 422 and "校验" in field_error(bad_check, "id_number")
    assert "统一社会信用代码" not in field_error(bad_check, "id_number")  # they typed an ID number
    assert nothing.status_code == 422 and "请输入被执行人姓名" in field_error(nothing, "name")
    for response in (short, malformed, bad_check, nothing):
        assert "<table" not in text_of(response)  # nothing was searched for


def test_an_empty_search_shows_the_form_without_listing_anything(client, session, clock, court):
    publish(session, clock, court)

    response = client.get("/search")

    assert response.status_code == 200
    assert 'id="search-form"' in text_of(response) and result_links(response) == []
    assert "查询条件有误" not in text_of(response)


def test_a_page_beyond_the_end_or_a_huge_page_size_gets_a_message(client, session, clock, court):
    publish(session, clock, court)

    beyond = search(client, name="张三", page="7")
    too_far = search(client, name="张三", page="26")
    huge = search(client, name="张三", per_page="100000")
    long_name = search(client, name="张" * 5000)

    assert beyond.status_code == 200 and "超出了查询结果的范围" in text_of(beyond)
    assert "page=1" in text_of(beyond)  # a link back to the last page
    assert too_far.status_code == 422 and "最多显示前500条结果" in text_of(too_far)
    assert huge.status_code == 422 and "每页最多50条" in text_of(huge)
    assert long_name.status_code == 422 and "不能超过100个字" in field_error(long_name, "name")


# --------------------------------------------------------------------------------------------------
# Record pages, rate limits, caching


def test_the_record_page_shows_every_art_6_field(client, session, clock, court):
    public_id = publish(session, clock, court)

    response = client.get(f"/listings/{public_id}")

    assert response.status_code == 200
    page = text_of(response)
    for shown in ("张三", "男", "45", MASKED_PERSON_ID, "BJ0105人民法院", "北京", "（2024）京0105执1234号",
                  "2024年3月1日", "(2023)京0105民初5678号", "北京市朝阳区人民法院",
                  "支付货款人民币100000元及利息", "全部未履行", "已履行 0.00元", "未履行 100,000.00元",
                  "有履行能力而拒不履行生效法律文书确定义务", "2025年3月3日"):  # fmt: skip
        assert shown in page, shown
    assert "对本条信息有异议？" in page and 'href="/correction"' in page
    # The correction form opens with this listing's public id filled in.
    assert f'href="/corrections/new?listing={public_id}"' in page
    form = text_of(client.get(f"/corrections/new?listing={public_id}"))
    assert f'value="{public_id}"' in form


def test_an_unknown_record_gives_the_not_on_the_list_page(client):
    for public_id in ("nosuchlisting", "x" * 200, "<script>"):
        response = client.get(f"/listings/{public_id}")
        assert response.status_code == 404
        assert NOT_ON_THE_LIST in text_of(response) and "<script>" not in text_of(response)


def test_record_pages_carry_an_etag_and_answer_304_until_the_record_changes(
    client, session, clock, court
):
    public_id = publish(session, clock, court)
    first = client.get(f"/listings/{public_id}")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache"

    again = client.get(f"/listings/{public_id}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""

    services.record_performance(
        session, listing_id_of(session, public_id),
        PaymentIn(amount=Decimal("1000.00"), performed_on=date(2025, 3, 3)),
        actor=court["clerk"], clock=clock,
    )  # fmt: skip
    session.commit()
    changed = client.get(f"/listings/{public_id}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "部分未履行" in text_of(changed) and "已履行 1,000.00元" in text_of(changed)


def test_searches_beyond_the_rate_limit_get_a_friendly_429_with_retry_after(app, client):
    app.config["PUBLIC_SEARCH_RATE_LIMIT"] = "3 per minute"

    statuses = [search(client, name="张三").status_code for _ in range(3)]
    limited = search(client, name="张三")
    restricted = search(client, "/restricted", name="张三")  # same allowance ("public-search")

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429 and restricted.status_code == 429
    seconds = int(limited.headers["Retry-After"])
    assert 0 < seconds <= 60
    page = text_of(limited)
    assert "查询过于频繁" in page and "秒后再试" in page
    shown = re.search(r"请于<strong>(\d+)</strong>秒后再试", page)
    assert shown and abs(int(shown.group(1)) - seconds) <= 1
    assert limited.headers["Cache-Control"] == "no-store"
    assert client.get("/").status_code == 200  # the home page is not limited


def test_public_pages_set_no_cookie_and_say_how_long_they_may_be_cached(
    client, session, clock, court
):
    public_id = publish(session, clock, court)
    expected = {
        "/search?name=张三": "no-store",
        "/restricted?name=张三": "no-store",
        f"/listings/{public_id}": "public, no-cache",
        "/stats": "public, no-cache",
    }
    for path, cache_control in expected.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == cache_control, path
        assert "Set-Cookie" not in response.headers, path


# --------------------------------------------------------------------------------------------------
# Restricted people, statistics, correction


def test_the_restricted_page_lists_a_legal_representative_until_full_payment(
    client, session, clock, court
):
    public_id = publish(
        session, clock, court,
        organisation_draft(representative=PersonIn(name="李四", id_number=REPRESENTATIVE_ID)),
    )  # fmt: skip

    response = search(client, "/restricted", name="李四")
    page = text_of(response)
    assert response.status_code == 200 and "李四" in page
    assert "北京某某商贸有限公司的法定代表人" in page
    assert MASKED_REPRESENTATIVE_ID in page and "（2024）京0105执2001号" in page
    assert "2025-03-03" in page and "乘坐飞机" in page and "限制出境" not in page
    assert result_links(response) == [f"/listings/{public_id}"]
    by_number = search(client, "/restricted", id_number=REPRESENTATIVE_ID.lower())
    assert "北京某某商贸有限公司的法定代表人" in text_of(by_number)

    services.record_performance(
        session, listing_id_of(session, public_id),
        PaymentIn(amount=Decimal("500000.00"), performed_on=date(2025, 3, 3), full=True),
        actor=court["clerk"], clock=clock,
    )  # fmt: skip
    session.commit()

    after = search(client, "/restricted", name="李四")
    assert after.status_code == 200 and NOTHING_FOUND in text_of(after)


def test_the_statistics_page_draws_svg_charts_with_data_tables(
    client, session, clock, court, other_court
):
    publish(session, clock, court)
    publish(session, clock, other_court, person("吴十", resident_id("19800101", "211"),
                                                case_number="(2024)沪0101执1号"))  # fmt: skip
    publish(session, clock, other_court, organisation_draft(case_number="(2024)沪0101执2号"))
    clear_statistics_cache()

    response = client.get("/stats")

    assert response.status_code == 200
    page = text_of(response)
    assert page.count("<svg") == 4 and 'role="img"' in page and "<title" in page
    assert "<script" not in page  # no chart library
    assert 'id="total-published">3<' in page and 'id="total-persons">2<' in page
    assert 'id="total-organisations">1<' in page
    # the two people, the organisation and its legal representative
    assert 'id="total-restricted">4<' in page
    province_table = page[page.index('id="table-province"') :]
    assert re.search(r"<th scope=\"row\">上海</th><td class=\"num\">2</td>", province_table)
    new_table = page[page.index('id="table-new"') :]
    assert re.search(r"<th scope=\"row\">2025-03</th><td class=\"num\">3</td>", new_table)
    assert re.search(r"<rect class=\"bar\"[^>]*>\s*<title>上海：2</title>", page)


def test_the_correction_page_explains_how_to_apply(client):
    response = client.get("/correction")

    assert response.status_code == 200
    page = text_of(response)
    for point in ("15日内", "3个工作日内", "10日内", "上一级人民法院", "执行法院", "不应被纳入名单",
                  "信息不准确", "应当删除而未删除", "终结执行"):  # fmt: skip
        assert point in page, point
