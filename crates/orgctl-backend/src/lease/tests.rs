//! The apply lease against the strict in-memory organization.

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::api::OrgApi;
use crate::memory::MemoryOrg;
use crate::observe::{ReadOptions, read_live};
use orgctl_model::LiveState;

thread_local! {
    /// Seconds added to the test clock by [`jump`].
    static JUMPED: Cell<u64> = const { Cell::new(0) };
    /// Tokio's (possibly paused) clock when the test clock was first read.
    static START: Cell<Option<tokio::time::Instant>> = const { Cell::new(None) };
}

/// 2025-12-02T09:00:00Z, plus tokio's elapsed time, plus [`jump`]s.
fn clock() -> SystemTime {
    let start = START.with(|s| {
        let v = s.get().unwrap_or_else(tokio::time::Instant::now);
        s.set(Some(v));
        v
    });
    UNIX_EPOCH + Duration::from_secs(1_764_666_000 + JUMPED.with(Cell::get)) + start.elapsed()
}

fn jump(secs: u64) {
    JUMPED.with(|j| j.set(j.get() + secs));
}

fn options(holder: &str) -> LeaseOptions {
    LeaseOptions {
        holder: holder.to_owned(),
        duration: Duration::from_secs(600),
        wait: Duration::ZERO,
        poll: Duration::from_secs(1),
        settle: Duration::from_millis(10),
        check_every: Duration::from_secs(5),
        clock,
    }
}

fn org() -> MemoryOrg {
    MemoryOrg::new("111111111111", "mgmt@example.com")
}

async fn tag(api: &MemoryOrg) -> Option<String> {
    let root = api.root_id();
    api.list_tags(&root)
        .await
        .expect("list tags")
        .get(LEASE_TAG)
        .cloned()
}

async fn take(api: &MemoryOrg, holder: &str) -> Lease {
    let o = options(holder);
    let seen = wait_until_free(api, &o).await.expect("free");
    acquire(api, &o, &seen).await.expect("acquire")
}

fn held_by(e: &LeaseError) -> &str {
    match e {
        LeaseError::Held { holder, .. } => holder,
        other => panic!("want Held, got {other}"),
    }
}

#[tokio::test]
async fn a_free_lease_is_taken_and_released() {
    let api = org();
    assert_eq!(tag(&api).await, None);
    let lease = take(&api, "alice@laptop").await;
    assert_eq!(lease.serial(), 1);
    assert!(lease.took_over.is_none());
    assert!(!lease.serial_moved);
    let held = tag(&api).await.expect("tag");
    assert!(
        held.starts_with("held serial=1 holder=alice@laptop since=2025-12-02T09:00:00Z until=2025-12-02T09:10:00Z token="),
        "{held}"
    );
    lease
        .release(&api, &options("alice@laptop"))
        .await
        .expect("release");
    let free = tag(&api).await.expect("tag");
    assert!(
        free.starts_with("free serial=1 holder=alice@laptop since=2025-12-02T09:00:00Z until="),
        "{free}"
    );
    assert!(!free.contains("token="), "{free}");
    // The next apply finds it free and counts on.
    let next = take(&api, "bob").await;
    assert_eq!(next.serial(), 2);
    assert!(next.took_over.is_none());
}

#[tokio::test]
async fn a_held_lease_is_an_error_naming_the_holder_and_nothing_is_written() {
    let api = org();
    let _alice = take(&api, "alice@laptop").await;
    let before = tag(&api).await;
    let bob = options("bob");
    let e = wait_until_free(&api, &bob).await.expect_err("held");
    assert_eq!(held_by(&e), "alice@laptop");
    let text = e.to_string();
    assert!(
        text.contains("alice@laptop")
            && text.contains("until 2025-12-02T09:10:00Z")
            && text.contains("--wait-lock"),
        "{text}"
    );
    // It says how to release it, token included.
    assert!(
        text.contains(&format!("`orgctl force-unlock {}`", _alice.value.token)),
        "{text}"
    );
    // Acquiring with an observation made before alice took it fails the same way.
    let seen = Observed {
        root_id: api.root_id(),
        serial: 0,
    };
    api.clear_calls();
    let e = acquire(&api, &bob, &seen).await.expect_err("held");
    assert_eq!(held_by(&e), "alice@laptop");
    assert_eq!(api.write_call_count(), 0, "{:?}", api.calls());
    assert_eq!(tag(&api).await, before);
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_with_a_warning() {
    let api = org();
    let alice = take(&api, "alice").await;
    jump(601);
    let bob = options("bob");
    let seen = wait_until_free(&api, &bob)
        .await
        .expect("expired counts as free");
    assert_eq!(seen.serial, 1);
    let lease = acquire(&api, &bob, &seen).await.expect("take over");
    let warning = lease.took_over.clone().expect("a takeover");
    assert!(
        warning.starts_with("alice (since 2025-12-02T09:00:00Z, expired 2025-12-02T09:10:00Z)"),
        "{warning}"
    );
    assert!(!lease.serial_moved, "nobody else ran since bob looked");
    assert_eq!(lease.serial(), 2);
    // Alice, back from the dead, does not release bob's lease.
    let e = alice
        .release(&api, &options("alice"))
        .await
        .expect_err("lost");
    assert!(
        matches!(&e, LeaseError::Lost { holder, .. } if holder == "bob"),
        "{e}"
    );
    assert!(tag(&api).await.expect("tag").contains("holder=bob"));
}

#[tokio::test(start_paused = true)]
async fn waiting_for_the_lease_proceeds_once_it_is_released() {
    let api = org();
    let alice = take(&api, "alice").await;
    let mut bob = options("bob");
    bob.wait = Duration::from_secs(60);
    let started = tokio::time::Instant::now();
    let release = async {
        tokio::time::sleep(Duration::from_secs(7)).await;
        alice
            .release(&api, &options("alice"))
            .await
            .expect("release");
    };
    let wait = async {
        let seen = wait_until_free(&api, &bob).await.expect("waited");
        acquire(&api, &bob, &seen).await.expect("acquire")
    };
    let ((), lease) = tokio::join!(release, wait);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(7) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    assert_eq!(lease.holder(), "bob");
    assert!(
        lease.took_over.is_none(),
        "a released lease is not taken over"
    );
}

#[tokio::test(start_paused = true)]
async fn waiting_for_the_lease_times_out_naming_the_holder() {
    let api = org();
    let _alice = take(&api, "alice").await;
    let mut bob = options("bob");
    bob.wait = Duration::from_secs(5);
    let started = tokio::time::Instant::now();
    let e = wait_until_free(&api, &bob).await.expect_err("timed out");
    assert_eq!(held_by(&e), "alice");
    assert!(e.to_string().contains("(waited 5s)"), "{e}");
    assert!(started.elapsed() >= Duration::from_secs(5));
}

#[tokio::test]
async fn an_apply_that_ran_between_the_read_and_the_lease_moves_the_serial() {
    let api = org();
    let bob = options("bob");
    let seen = wait_until_free(&api, &bob).await.expect("free");
    // Alice applies from start to end while bob reads the organization.
    let alice = take(&api, "alice").await;
    alice
        .release(&api, &options("alice"))
        .await
        .expect("release");
    let lease = acquire(&api, &bob, &seen).await.expect("acquire");
    assert!(lease.serial_moved, "bob must re-read before writing");
    lease.release(&api, &bob).await.expect("release");

    let seen = wait_until_free(&api, &bob).await.expect("free");
    let lease = acquire(&api, &bob, &seen).await.expect("acquire");
    assert!(!lease.serial_moved);
}

#[tokio::test]
async fn a_write_that_lands_after_ours_wins_and_we_back_off() {
    // Mallory writes her lease while alice waits to read hers back.
    struct Racing {
        org: MemoryOrg,
    }
    impl Racing {
        async fn intrude(&self) {
            let root = self.org.root_id();
            let mut tags = Tags::new();
            tags.insert(
                LEASE_TAG.to_owned(),
                "held serial=1 holder=mallory since=2025-12-02T09:00:00Z until=2025-12-02T10:00:00Z token=ffff".to_owned(),
            );
            self.org.tag_resource(&root, &tags).await.expect("tag");
        }
    }
    let racing = Racing { org: org() };
    let mut alice = options("alice");
    alice.settle = Duration::from_millis(200);
    let seen = wait_until_free(&racing.org, &alice).await.expect("free");
    let acquiring = acquire(&racing.org, &alice, &seen);
    let intrusion = async {
        // After alice's write, before her read-back.
        tokio::time::sleep(Duration::from_millis(100)).await;
        racing.intrude().await;
    };
    let (result, ()) = tokio::join!(acquiring, intrusion);
    let e = result.expect_err("mallory holds it");
    assert_eq!(held_by(&e), "mallory");
}

#[tokio::test(start_paused = true)]
async fn a_held_lease_is_renewed_and_a_lost_one_stops_the_apply() {
    let api = org();
    let mut o = options("alice");
    o.duration = Duration::from_secs(30);
    let seen = wait_until_free(&api, &o).await.expect("free");
    let mut lease = acquire(&api, &o, &seen).await.expect("acquire");
    // A 100 s apply under a 30 s lease: others still find it held at the end.
    let work = async {
        tokio::time::sleep(Duration::from_secs(100)).await;
        wait_until_free(&api, &options("bob")).await
    };
    let still_held = lease.hold_while(&api, &o, work).await.expect("not lost");
    assert_eq!(held_by(&still_held.expect_err("held")), "alice");

    // Somebody takes it over: the apply stops at the next check, not at its end.
    let started = tokio::time::Instant::now();
    let work = tokio::time::sleep(Duration::from_secs(100));
    let intrusion = async {
        tokio::time::sleep(Duration::from_secs(7)).await;
        let mut tags = Tags::new();
        tags.insert(
            LEASE_TAG.to_owned(),
            "held serial=9 holder=mallory since=2025-12-02T09:00:00Z until=2025-12-02T10:00:00Z token=ffff".to_owned(),
        );
        api.tag_resource(&api.root_id(), &tags).await.expect("tag");
    };
    let (stopped, ()) = tokio::join!(lease.hold_while(&api, &o, work), intrusion);
    let e = stopped.expect_err("lost");
    assert!(
        matches!(&e, LeaseError::Lost { holder, .. } if holder == "mallory"),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
}

async fn read(api: &MemoryOrg) -> LiveState {
    read_live(api, &ReadOptions::default()).await.expect("read")
}

#[tokio::test]
async fn the_lease_is_released_whatever_the_apply_returns() {
    let api = org();
    let before = read(&api).await;
    for outcome in [Ok(3), Err("boom")] {
        let lease = take(&api, "alice").await;
        let (output, released) = lease
            .run(
                &api,
                &options("alice"),
                &ReadOptions::default(),
                &before,
                async { outcome },
            )
            .await;
        assert_eq!(output.expect("not lost"), outcome);
        released.expect("released");
        assert!(tag(&api).await.expect("tag").starts_with("free "));
    }
}

#[tokio::test]
async fn an_organization_changed_by_an_apply_between_read_and_lease_is_not_written() {
    let api = org();
    let bob = options("bob");
    let seen = wait_until_free(&api, &bob).await.expect("free");
    let before = read(&api).await;
    // Alice applies something while bob plans.
    let alice = take(&api, "alice").await;
    api.create_ou(&api.root_id(), "Alice", &Tags::new())
        .await
        .expect("create OU");
    alice
        .release(&api, &options("alice"))
        .await
        .expect("release");

    let lease = acquire(&api, &bob, &seen).await.expect("acquire");
    let ran = Cell::new(false);
    let (output, released) = lease
        .run(&api, &bob, &ReadOptions::default(), &before, async {
            ran.set(true);
        })
        .await;
    assert!(matches!(output, Err(LeaseError::Changed)), "{output:?}");
    assert!(!ran.get(), "bob wrote nothing");
    released.expect("released");
    assert!(
        tag(&api)
            .await
            .expect("tag")
            .starts_with("free serial=2 holder=bob ")
    );

    // Alice again, this time changing nothing: bob re-reads, finds it unchanged and goes on.
    let seen = wait_until_free(&api, &bob).await.expect("free");
    let before = read(&api).await;
    let alice = take(&api, "alice").await;
    alice
        .release(&api, &options("alice"))
        .await
        .expect("release");
    let lease = acquire(&api, &bob, &seen).await.expect("acquire");
    assert!(lease.serial_moved);
    let (output, released) = lease
        .run(&api, &bob, &ReadOptions::default(), &before, async {
            ran.set(true);
        })
        .await;
    output.expect("ran");
    assert!(ran.get());
    released.expect("released");
}

#[tokio::test]
async fn a_tag_that_is_not_a_lease_is_refused() {
    let api = org();
    let mut tags = Tags::new();
    tags.insert(LEASE_TAG.to_owned(), "locked by me".to_owned());
    api.tag_resource(&api.root_id(), &tags).await.expect("tag");
    let e = wait_until_free(&api, &options("bob"))
        .await
        .expect_err("unreadable");
    assert!(matches!(e, LeaseError::Unreadable { .. }), "{e}");
    assert!(e.to_string().contains("\"locked by me\""), "{e}");
}

#[tokio::test]
async fn the_lease_is_not_part_of_the_live_state() {
    let api = org();
    let before = read_live(&api, &ReadOptions::default())
        .await
        .expect("read");
    let _lease = take(&api, "alice").await;
    let after = read_live(&api, &ReadOptions::default())
        .await
        .expect("read");
    assert_eq!(before, after);
    assert_eq!(before.fingerprint(), after.fingerprint());
}

#[test]
fn values_and_times_round_trip() {
    let v = Value {
        held: true,
        serial: 42,
        holder: sanitize_holder("ci runner #3 (main)"),
        since: 1_764_666_000,
        until: 1_764_666_900,
        token: "00ff".to_owned(),
    };
    assert_eq!(v.holder, "ci_runner__3__main_");
    let text = v.render();
    assert_eq!(
        text,
        "held serial=42 holder=ci_runner__3__main_ since=2025-12-02T09:00:00Z \
         until=2025-12-02T09:15:00Z token=00ff"
    );
    assert!(text.len() <= 256);
    assert_eq!(Value::parse(&text), Some(v));
    assert_eq!(parse_utc("2000-02-29T23:59:59Z"), Some(951_868_799));
    assert_eq!(format_utc(951_868_799), "2000-02-29T23:59:59Z");
    assert_eq!(parse_utc("2000-13-01T00:00:00Z"), None);
    assert_eq!(parse_utc("2026-02-31T00:00:00Z"), None);
    assert_eq!(parse_utc("2026-12-02T09:30:00+01:00"), None);
    assert_eq!(Value::parse("held serial=1 holder=x"), None);
    // The token is printed in a shell command: letters and digits only.
    let bad = "held serial=1 holder=x since=2000-02-29T23:59:59Z until=2000-02-29T23:59:59Z";
    assert!(Value::parse(&format!("{bad} token=0aF9")).is_some());
    for token in ["$(rm)", "a;b", "", &"a".repeat(65)] {
        assert_eq!(
            Value::parse(&format!("{bad} token={token}")),
            None,
            "{token}"
        );
    }
    assert_eq!(sanitize_holder(&"x".repeat(100)).len(), 64);
}

/// A lease left behind by an apply that was killed: taken, never released.
async fn abandoned(api: &MemoryOrg, holder: &str) -> String {
    let lease = take(api, holder).await;
    lease.value.token.clone()
}

#[tokio::test]
async fn a_lease_is_released_by_its_token_keeping_its_serial() {
    let api = org();
    let bob = options("bob");
    // Bob looked before alice's apply took the lease and was killed.
    let seen = wait_until_free(&api, &bob).await.expect("free");
    let token = abandoned(&api, "alice").await;
    wait_until_free(&api, &bob)
        .await
        .expect_err("alice holds it");

    let found = find_by_token(&api, &token, &bob).await.expect("found");
    let released = release_by_token(&api, &token, &bob)
        .await
        .expect("released");
    assert_eq!(found, released);
    assert_eq!(
        released,
        HeldLease {
            root_id: api.root_id(),
            serial: 1,
            holder: "alice".to_owned(),
            since: "2025-12-02T09:00:00Z".to_owned(),
            until: "2025-12-02T09:10:00Z".to_owned(),
        }
    );
    let free = tag(&api).await.expect("tag");
    assert!(
        free.starts_with("free serial=1 holder=alice since=2025-12-02T09:00:00Z until="),
        "{free}"
    );
    assert!(!free.contains("token="), "{free}");
    // Bob takes it as a released lease (no takeover), and knows alice ran since he looked.
    let lease = acquire(&api, &bob, &seen).await.expect("acquire");
    assert_eq!(lease.serial(), 2);
    assert!(lease.took_over.is_none());
    assert!(lease.serial_moved, "bob must re-read before writing");
}

#[tokio::test]
async fn releasing_by_a_token_that_is_not_the_leases_is_refused_and_writes_nothing() {
    let api = org();
    let old = abandoned(&api, "alice").await;
    jump(601);
    // Bob took the expired lease over: alice's token no longer releases anything.
    let _bob = take(&api, "bob").await;
    let before = tag(&api).await;
    api.clear_calls();
    for e in [
        find_by_token(&api, &old, &options("carol"))
            .await
            .expect_err("not alice's"),
        release_by_token(&api, &old, &options("carol"))
            .await
            .expect_err("not alice's"),
    ] {
        assert!(
            matches!(&e, LeaseError::OtherToken { holder, token, .. } if holder == "bob" && *token == old),
            "{e}"
        );
        let text = e.to_string();
        assert!(
            text.contains(&format!("not the one with token {old}"))
                && text.contains("held by bob")
                && text.contains("nothing was changed"),
            "{text}"
        );
    }
    assert_eq!(api.write_call_count(), 0, "{:?}", api.calls());
    assert_eq!(tag(&api).await, before);
}

#[tokio::test]
async fn releasing_a_free_or_expiring_lease_is_refused_and_writes_nothing() {
    let api = org();
    // Never taken.
    let e = release_by_token(&api, "0123456789abcdef", &options("carol"))
        .await
        .expect_err("free");
    assert!(
        matches!(&e, LeaseError::NotHeld { last, .. } if last.is_empty()),
        "{e}"
    );
    assert_eq!(api.write_call_count(), 0, "{:?}", api.calls());
    assert_eq!(tag(&api).await, None);

    // Released by its apply.
    let lease = take(&api, "alice").await;
    let token = lease.value.token.clone();
    lease
        .release(&api, &options("alice"))
        .await
        .expect("release");
    let before = tag(&api).await;
    api.clear_calls();
    let e = release_by_token(&api, &token, &options("carol"))
        .await
        .expect_err("free");
    assert!(matches!(&e, LeaseError::NotHeld { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("not held (last held by alice, since 2025-12-02T09:00:00Z, until"),
        "{e}"
    );
    assert_eq!(api.write_call_count(), 0, "{:?}", api.calls());
    assert_eq!(tag(&api).await, before);

    // Expiring within a minute: an apply may be taking it over right now.
    let token = abandoned(&api, "dave").await;
    jump(550);
    let before = tag(&api).await;
    api.clear_calls();
    let e = release_by_token(&api, &token, &options("carol"))
        .await
        .expect_err("expiring");
    assert!(
        matches!(&e, LeaseError::Expiring { holder, .. } if holder == "dave"),
        "{e}"
    );
    assert_eq!(api.write_call_count(), 0, "{:?}", api.calls());
    assert_eq!(tag(&api).await, before);
}

#[tokio::test(start_paused = true)]
async fn an_apply_whose_lease_is_force_released_stops_at_its_next_check() {
    let api = org();
    let o = options("alice");
    let seen = wait_until_free(&api, &o).await.expect("free");
    let mut lease = acquire(&api, &o, &seen).await.expect("acquire");
    let token = lease.value.token.clone();
    // Somebody releases alice's lease by mistake while her apply runs.
    let started = tokio::time::Instant::now();
    let work = tokio::time::sleep(Duration::from_secs(100));
    let unlock = async {
        tokio::time::sleep(Duration::from_secs(7)).await;
        release_by_token(&api, &token, &options("carol"))
            .await
            .expect("released");
    };
    let (stopped, ()) = tokio::join!(lease.hold_while(&api, &o, work), unlock);
    let e = stopped.expect_err("released");
    assert!(matches!(&e, LeaseError::Released { .. }), "{e}");
    assert!(e.to_string().contains("force-unlock"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(15));
    // Her release then leaves it free, and does not take it back.
    lease.release(&api, &o).await.expect("release");
    assert!(tag(&api).await.expect("tag").starts_with("free serial=1 "));
}
