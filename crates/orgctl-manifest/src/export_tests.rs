use super::*;

#[test]
fn scalars_are_plain_only_when_they_read_back_as_the_same_string() {
    assert_eq!(scalar("companyx-staging"), "companyx-staging");
    assert_eq!(scalar("/Workloads/Staging"), "/Workloads/Staging");
    assert_eq!(scalar("platform team"), "platform team");
    for s in [
        "true",
        "No",
        "null",
        "123",
        "",
        "a: b",
        "x #y",
        "-x",
        "@x",
        "trailing ",
        "a\"b",
    ] {
        assert!(scalar(s).starts_with('"'), "{s:?} → {}", scalar(s));
    }
    assert_eq!(quoted("a\u{200b}b\u{1F600}"), "\"a\\u200Bb\u{1F600}\"");
    assert_eq!(quoted("line\nbreak"), "\"line\\nbreak\"");
}

#[test]
fn sessions_and_dates_are_written_as_the_format_reads_them() {
    assert_eq!(session(3600), "1h");
    assert_eq!(session(5400), "1h30m");
    assert_eq!(session(43_200), "12h");
    assert_eq!(
        expires_before("2027-07-01T00:00:00Z").as_deref(),
        Ok("2027-06-30")
    );
    assert_eq!(
        expires_before("2027-03-01T12:00:00Z").as_deref(),
        Ok("2027-02-28")
    );
    assert_eq!(
        access_ends_after("2027-06-30").as_deref(),
        Some("2027-07-01T00:00:00Z")
    );
}

#[test]
fn a_grant_roles_description_gives_partner_owner_and_ticket() {
    assert_eq!(
        parse_description(
            "p",
            "orgctl grant p for Partner, Inc, owner a, b, ticket T-1, expires 2027-01-01",
            Some("2027-01-01")
        ),
        Some(("Partner, Inc".into(), "a, b".into(), "T-1".into()))
    );
    assert_eq!(parse_description("p", "hand-written", None), None);
}
