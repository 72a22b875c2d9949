"""The twin finder's rules (sync/twins.py), on plain values: what is a twin, what is strong."""

from datetime import date

from odoo.addons.biller_genie_qbo.sync.twins import (
    customer_twins,
    invoice_twins,
    norm_name,
    payment_twins,
)

D1, D2 = date(2026, 1, 5), date(2026, 1, 6)


def test_names_ignore_case_and_spaces():
    assert norm_name("  Amy's  Bird\tSanctuary ") == "amy's bird sanctuary"


def test_customer_email_and_name_is_strong():
    twins = customer_twins(
        [(1, "Amy's Bird", "Birds@Intuit.com")], [(9, "amy's  bird", "birds@intuit.com")]
    )
    assert twins[1].key == 9 and twins[1].strong and set(twins[1].keys) == {"email", "name"}


def test_customer_name_only_or_email_only_is_weak():
    twins = customer_twins(
        [(1, "Cool Cars", False), (2, "Diego R.", "diego@x.com")],
        [(8, "cool cars", "cars@y.com"), (9, "Diego Rodriguez", "Diego@x.com")],
    )
    assert twins[1].key == 8 and not twins[1].strong and twins[1].keys == ("name",)
    assert twins[2].key == 9 and not twins[2].strong and twins[2].keys == ("email",)


def test_customer_ambiguous_is_weak_and_no_match_is_none():
    # Two candidates of that name, or one candidate claimed by two records: never strong.
    twins = customer_twins(
        [(1, "Amy", "a@x.com"), (2, "Bob", "b@x.com"), (3, "bob", "b@x.com"), (4, "Zed", "")],
        [(7, "Amy", "a@x.com"), (8, "amy", ""), (9, "Bob", "b@x.com")],
    )
    assert twins[1].key == 7 and not twins[1].strong, "the best one, but ambiguous"
    assert not twins[2].strong and not twins[3].strong
    assert 4 not in twins


def test_invoice_rules():
    cands = [(10, "C1", "1001", 200.0, D1), (11, "C1", "", 75.5, D2), (12, "C2", "1001", 200.0, D1)]
    twins = invoice_twins(
        [
            (1, "C1", "1001", 200.0, D2),  # customer + number + total: strong
            (2, "C1", "X-9", 75.5, D2),  # customer + total + date: weak
            (3, "C1", "X-9", 75.5, D1),  # total only: no twin
            (4, "C3", "1001", 200.0, D1),  # another customer: no twin
        ],
        cands,
    )
    assert twins[1].key == 10 and twins[1].strong
    assert twins[2].key == 11 and not twins[2].strong
    assert 3 not in twins and 4 not in twins
    weak = invoice_twins([(5, "C1", "1001", 10.0, D1)], cands)  # number, not total
    assert weak[5].key == 10 and not weak[5].strong
    both = invoice_twins([(1, "C1", "1001", 200.0, D2), (5, "C1", "1001", 10.0, D1)], cands)
    assert not both[1].strong, "a candidate two records claim is ambiguous"


def test_payment_rules():
    cands = [(10, "C1", 50.0, D1, "CHK 12"), (11, "C1", 30.0, D1, "")]
    twins = payment_twins(
        [
            (1, "C1", 50.0, D1, "chk12"),  # same reference: strong
            (2, "C1", 50.0, D1, "CHK 13"),  # another reference: not a twin
            (3, "C1", 30.0, D1, "CHK 14"),  # one reference missing: weak
            (4, "C1", 30.0, D2, ""),  # another date: no twin
        ],
        cands,
    )
    assert twins[1].key == 10 and twins[1].strong
    assert 2 not in twins and 4 not in twins
    assert twins[3].key == 11 and not twins[3].strong
