//! The apply lease: one tag on the organization's root that says which apply may write.
//!
//! AWS Organizations has no lock and no conditional write, so the lease is a tag,
//! [`LEASE_TAG`], on the root, written through [`OrgApi`] like everything else (the in-memory
//! organization, `--live-state` sandboxes and the SDK all get it). Its value is one line of
//! `key=value` words:
//!
//! ```text
//! held serial=7 holder=ci@runner-3/4121 since=2026-12-02T09:30:00Z until=2026-12-02T09:45:00Z token=5f0c…
//! free serial=7 holder=ci@runner-3/4121 since=2026-12-02T09:30:00Z until=2026-12-02T09:41:12Z
//! ```
//!
//! `serial` counts the applies that ever held the lease. Releasing does not remove the tag: it
//! marks it `free`, keeping the serial and who held it last until when. That is what lets an
//! apply notice that another apply ran (and finished) between reading the organization and
//! taking the lease: the serial moved ([`Lease::serial_moved`]).
//!
//! How an apply uses it (see `orgctl apply`):
//! 1. [`wait_until_free`] before reading the organization (read-only): an unexpired lease held
//!    by another apply is [`LeaseError::Held`] naming the holder, or, with a wait, is waited out.
//!    An expired one counts as free.
//! 2. [`acquire`] after the plan is confirmed and before the first write: checks again, writes
//!    a `held` value with a fresh random token, waits [`LeaseOptions::settle`], reads the tag
//!    back and proceeds only if the token is still its own. An expired lease of another holder
//!    is taken over ([`Lease::took_over`] says whose, for a warning).
//! 3. [`Lease::run`] first reads the organization again when the serial moved, and refuses to
//!    go on if it changed ([`LeaseError::Changed`]). [`Lease::hold_while`] runs the apply and
//!    re-reads the tag every
//!    [`LeaseOptions::check_every`]: it renews the lease before a third of it is left, and stops
//!    the apply with [`LeaseError::Lost`] if another holder's token is there, or with
//!    [`LeaseError::Released`] if the lease is free or gone (released by `force-unlock`).
//! 4. [`Lease::release`] marks it `free`, on every path once acquired, unless another holder
//!    took it over meanwhile.
//!
//! A process killed while holding the lease cannot release it: `orgctl force-unlock TOKEN`
//! does ([`release_by_token`]), with the token the [`LeaseError::Held`] message prints. It
//! marks the lease `free` exactly as [`Lease::release`] would, and refuses (writing nothing)
//! when the lease is free, held with another token (someone took it since), or expires within
//! a minute (an apply may be taking it over; the release must not overwrite that).
//!
//! The remaining race, stated honestly: tags are last-writer-wins. Two applies that both see
//! the lease free, and whose writes land so that each reads its own token back (the second
//! write arrives after the first apply's read-back, e.g. delayed by retries past the settle
//! time), both proceed. The periodic check in [`Lease::hold_while`] finds the overwritten one
//! within [`LeaseOptions::check_every`] and stops it; until then the two interleave. A process
//! killed while holding the lease leaves it `held` until it expires or `force-unlock` releases
//! it; releasing the lease of an apply that is still running stops that apply at its next
//! check, and a second apply that starts before then runs beside it until then. Plans never
//! take the lease,
//! and the root's tags are not part of the live state, its plan or its fingerprint (except the
//! record of what was applied, `orgctl:applied`, which the planner reads but never compares).

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use orgctl_model::{LiveState, Tags};

use crate::api::{ApiError, OrgApi};
use crate::observe::{ReadError, ReadOptions, read_live};

/// The root tag that holds the lease: one of orgctl's bookkeeping tags
/// ([`orgctl_model::is_bookkeeping_tag`]), which no plan compares or writes.
pub use orgctl_model::LEASE_TAG;

/// How an apply takes and keeps the lease.
#[derive(Debug, Clone)]
pub struct LeaseOptions {
    /// Who holds it (printed to the apply that finds it held). Characters a tag value cannot
    /// hold become `_`; at most 64 are kept.
    pub holder: String,
    /// How long a lease lasts without renewal; an apply that dies keeps others out this long.
    pub duration: Duration,
    /// How long to wait for another apply's lease (`--wait-lock`); zero fails at once.
    pub wait: Duration,
    /// How often to look again while waiting.
    pub poll: Duration,
    /// How long to wait between writing the lease and reading it back.
    pub settle: Duration,
    /// How often a held lease is checked (and renewed when a third of it is left).
    pub check_every: Duration,
    /// The clock.
    pub clock: fn() -> SystemTime,
}

impl Default for LeaseOptions {
    fn default() -> Self {
        Self {
            holder: "orgctl".to_owned(),
            duration: Duration::from_secs(15 * 60),
            wait: Duration::ZERO,
            poll: Duration::from_secs(2),
            settle: Duration::from_secs(1),
            check_every: Duration::from_secs(30),
            clock: SystemTime::now,
        }
    }
}

impl LeaseOptions {
    fn now(&self) -> u64 {
        (self.clock)()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// Why the lease could not be taken or kept.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Another apply holds an unexpired lease.
    #[error(
        "another apply holds the lease on this organization: {holder}, since {since}, until \
         {until}{waited} (the {LEASE_TAG} tag on the root {root_id}; nothing was changed). Wait \
         for it with --wait-lock DURATION, or, if no apply is running (it was killed), release \
         it with `orgctl force-unlock {token}{unlock_args}`"
    )]
    Held {
        /// Who holds it.
        holder: String,
        /// When it was taken.
        since: String,
        /// When it expires.
        until: String,
        /// The root.
        root_id: String,
        /// `" (waited 30s)"` when this apply waited.
        waited: String,
        /// The lease's token, for [`release_by_token`] (`orgctl force-unlock TOKEN`).
        token: String,
        /// What follows the token in the `orgctl force-unlock` command the message prints
        /// (empty here; the CLI adds the arguments that name the same organization, e.g.
        /// `" infra --live-state org.json"`).
        unlock_args: String,
    },
    /// `force-unlock`: the lease is not held (released, expired, or never taken).
    #[error(
        "the apply lease on this organization is not held{last} (the {LEASE_TAG} tag on the root \
         {root_id}): there is nothing to release; nothing was changed"
    )]
    NotHeld {
        /// The root.
        root_id: String,
        /// `" (last held by …, since …, until …)"`, or empty when no apply ever took it.
        last: String,
    },
    /// `force-unlock`: the lease held now is not the one with the given token.
    #[error(
        "the apply lease on this organization is not the one with token {token}: it is held by \
         {holder}, since {since}, until {until} (the token is mistyped, or another apply took \
         it since; nothing was changed). Release a lease only with the token printed by an apply that found it held, \
         and only when no apply is running"
    )]
    OtherToken {
        /// The token asked for.
        token: String,
        /// Who holds the lease now.
        holder: String,
        /// Since when.
        since: String,
        /// Until when.
        until: String,
    },
    /// `force-unlock`: the lease with the token has expired, or is about to.
    #[error(
        "the apply lease with token {token} ({holder}, since {since}) expires at {until}, less \
         than a minute from now, or already did: the next apply takes it over, so there is \
         nothing to release; nothing was changed"
    )]
    Expiring {
        /// The token.
        token: String,
        /// Who held it.
        holder: String,
        /// Since when.
        since: String,
        /// Until when.
        until: String,
    },
    /// The tag is there but is not a lease orgctl wrote.
    #[error(
        "the {LEASE_TAG} tag on the root {root_id} reads {value:?}, which is not an orgctl \
         lease (nothing was changed); remove the tag if no apply is running"
    )]
    Unreadable {
        /// The root.
        root_id: String,
        /// The tag's value.
        value: String,
    },
    /// Another apply took the lease while this one held it.
    #[error(
        "lost the apply lease to {holder} (the {LEASE_TAG} tag on the root {root_id}); this \
         apply stopped. Run `orgctl plan` once the other apply is done"
    )]
    Lost {
        /// Who holds it now.
        holder: String,
        /// The root.
        root_id: String,
    },
    /// The lease was released (`orgctl force-unlock`) or its tag removed while this apply
    /// held it.
    #[error(
        "the apply lease was released while this apply held it (`orgctl force-unlock`, or the \
         {LEASE_TAG} tag on the root {root_id} removed); this apply stopped. Run `orgctl plan` \
         once no other apply is running"
    )]
    Released {
        /// The root.
        root_id: String,
    },
    /// Another apply changed the organization between this one's read and its lease.
    #[error(
        "another apply changed the organization after this one read it; run `orgctl apply` \
         again to plan from the organization as it is now (nothing was changed)"
    )]
    Changed,
    /// Reading the organization again failed.
    #[error("{0}")]
    Read(#[from] ReadError),
    /// An AWS call failed.
    #[error("apply lease: {0}")]
    Api(#[from] ApiError),
}

/// The lease tag as read: what [`wait_until_free`] saw before the organization was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The root carrying the tag.
    pub root_id: String,
    /// The lease's serial (0 when the tag is absent).
    pub serial: u64,
}

/// The lease value, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Value {
    held: bool,
    serial: u64,
    holder: String,
    since: u64,
    until: u64,
    token: String,
}

impl Value {
    fn render(&self) -> String {
        let mut s = format!(
            "{} serial={} holder={} since={} until={}",
            if self.held { "held" } else { "free" },
            self.serial,
            self.holder,
            format_utc(self.since),
            format_utc(self.until),
        );
        if self.held {
            s.push_str(" token=");
            s.push_str(&self.token);
        }
        s
    }

    fn parse(text: &str) -> Option<Self> {
        let mut words = text.split_whitespace();
        let held = match words.next()? {
            "held" => true,
            "free" => false,
            _ => return None,
        };
        let (mut serial, mut holder, mut since, mut until, mut token) =
            (None, None, None, None, None);
        for w in words {
            let (k, v) = w.split_once('=')?;
            match k {
                "serial" => serial = v.parse().ok(),
                "holder" => holder = Some(v.to_owned()),
                "since" => since = parse_utc(v),
                "until" => until = parse_utc(v),
                "token" => token = Some(v.to_owned()),
                _ => {}
            }
        }
        // The token is printed in a command to copy into a shell: only letters and digits.
        let token = if held {
            token.filter(|t| {
                (1..=64).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphanumeric())
            })?
        } else {
            String::new()
        };
        Some(Self {
            held,
            serial: serial?,
            holder: holder?,
            since: since?,
            until: until?,
            token,
        })
    }

    fn held_by_other(&self, now: u64, token: Option<&str>) -> bool {
        self.held && now < self.until && Some(self.token.as_str()) != token
    }

    fn held_error(&self, root_id: &str, waited: Duration) -> LeaseError {
        LeaseError::Held {
            holder: self.holder.clone(),
            since: format_utc(self.since),
            until: format_utc(self.until),
            root_id: root_id.to_owned(),
            waited: if waited.as_secs() == 0 {
                String::new()
            } else {
                format!(" (waited {}s)", waited.as_secs())
            },
            token: self.token.clone(),
            unlock_args: String::new(),
        }
    }
}

async fn root_id<A: OrgApi>(api: &A) -> Result<String, LeaseError> {
    let roots = api.list_roots().await?;
    roots.into_iter().next().map(|r| r.id).ok_or_else(|| {
        LeaseError::Api(ApiError::service(
            crate::api::operations::LIST_ROOTS,
            crate::api::codes::ROOT_NOT_FOUND,
            "the organization has no root",
        ))
    })
}

async fn read_value<A: OrgApi>(api: &A, root_id: &str) -> Result<Option<Value>, LeaseError> {
    let tags = api.list_tags(root_id).await?;
    match tags.get(LEASE_TAG) {
        None => Ok(None),
        Some(text) => Value::parse(text)
            .map(Some)
            .ok_or_else(|| LeaseError::Unreadable {
                root_id: root_id.to_owned(),
                value: text.clone(),
            }),
    }
}

async fn write_value<A: OrgApi>(api: &A, root_id: &str, value: &Value) -> Result<(), LeaseError> {
    let mut tags = Tags::new();
    tags.insert(LEASE_TAG.to_owned(), value.render());
    api.tag_resource(root_id, &tags).await?;
    Ok(())
}

/// Waits (read-only) until no other apply holds an unexpired lease, at most
/// [`LeaseOptions::wait`]; returns what it saw, for [`acquire`].
pub async fn wait_until_free<A: OrgApi>(
    api: &A,
    options: &LeaseOptions,
) -> Result<Observed, LeaseError> {
    let root_id = root_id(api).await?;
    let started = tokio::time::Instant::now();
    loop {
        let value = read_value(api, &root_id).await?;
        match value {
            Some(v) if v.held_by_other(options.now(), None) => {
                let waited = started.elapsed();
                if waited >= options.wait {
                    return Err(v.held_error(&root_id, waited));
                }
                tokio::time::sleep(options.poll.min(options.wait - waited)).await;
            }
            _ => {
                return Ok(Observed {
                    root_id,
                    serial: value.map_or(0, |v| v.serial),
                });
            }
        }
    }
}

/// A lease this apply holds.
#[derive(Debug)]
pub struct Lease {
    root_id: String,
    value: Value,
    /// Whether another apply held the lease after `seen` was observed: the organization may
    /// have changed since it was read.
    pub serial_moved: bool,
    /// The expired lease this one replaced: `"holder (since …, expired …)"`.
    pub took_over: Option<String>,
}

/// Takes the lease (waiting as [`wait_until_free`] does), confirms it by reading it back after
/// [`LeaseOptions::settle`], and returns it. `seen` is what [`wait_until_free`] returned before
/// the organization was read.
pub async fn acquire<A: OrgApi>(
    api: &A,
    options: &LeaseOptions,
    seen: &Observed,
) -> Result<Lease, LeaseError> {
    let root_id = seen.root_id.clone();
    let token = format!("{:016x}", rand::random::<u64>());
    let holder = sanitize_holder(&options.holder);
    let started = tokio::time::Instant::now();
    loop {
        let now = options.now();
        let current = read_value(api, &root_id).await?;
        if let Some(v) = current.as_ref().filter(|v| v.held_by_other(now, None)) {
            let waited = started.elapsed();
            if waited >= options.wait {
                return Err(v.held_error(&root_id, waited));
            }
            tokio::time::sleep(options.poll.min(options.wait - waited)).await;
            continue;
        }
        let took_over = current.as_ref().filter(|v| v.held).map(|v| {
            format!(
                "{} (since {}, expired {})",
                v.holder,
                format_utc(v.since),
                format_utc(v.until)
            )
        });
        let serial = current.as_ref().map_or(0, |v| v.serial);
        let value = Value {
            held: true,
            serial: serial + 1,
            holder: holder.clone(),
            since: now,
            until: now + options.duration.as_secs(),
            token: token.clone(),
        };
        write_value(api, &root_id, &value).await?;
        tokio::time::sleep(options.settle).await;
        match read_value(api, &root_id).await? {
            Some(v) if v.held && v.token == token => {
                return Ok(Lease {
                    root_id,
                    value,
                    serial_moved: serial != seen.serial,
                    took_over,
                });
            }
            // Another apply wrote after this one: it holds the lease.
            Some(v) if v.held_by_other(options.now(), Some(&token)) => {
                let waited = started.elapsed();
                if waited >= options.wait {
                    return Err(v.held_error(&root_id, waited));
                }
                tokio::time::sleep(options.poll.min(options.wait - waited)).await;
            }
            // Gone or expired already: try again.
            _ => {}
        }
    }
}

impl Lease {
    /// Who holds it (as written in the tag).
    pub fn holder(&self) -> &str {
        &self.value.holder
    }

    /// The lease's serial.
    pub fn serial(&self) -> u64 {
        self.value.serial
    }

    /// Checks that the lease is still this apply's ([`LeaseError::Lost`] when another token holds
    /// it, [`LeaseError::Released`] when it is free or gone) and renews it when less than two
    /// thirds of it are left.
    pub async fn check<A: OrgApi>(
        &mut self,
        api: &A,
        options: &LeaseOptions,
    ) -> Result<(), LeaseError> {
        match read_value(api, &self.root_id).await? {
            Some(v) if v.held && v.token == self.value.token => {}
            Some(v) if v.held => {
                return Err(LeaseError::Lost {
                    holder: v.holder,
                    root_id: self.root_id.clone(),
                });
            }
            // Free or gone: released under this apply (`force-unlock`), which must stop.
            _ => {
                return Err(LeaseError::Released {
                    root_id: self.root_id.clone(),
                });
            }
        }
        let now = options.now();
        let left = self.value.until.saturating_sub(now);
        if left * 3 < options.duration.as_secs() * 2 {
            self.value.until = now + options.duration.as_secs();
            write_value(api, &self.root_id, &self.value).await?;
        }
        Ok(())
    }

    /// Runs `work` while holding the lease: checks it every [`LeaseOptions::check_every`]
    /// (renewing it as [`Lease::check`] does) and stops `work` when the lease is lost or was
    /// released.
    pub async fn hold_while<A: OrgApi, F: Future>(
        &mut self,
        api: &A,
        options: &LeaseOptions,
        work: F,
    ) -> Result<F::Output, LeaseError> {
        let mut work = std::pin::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => return Ok(out),
                () = tokio::time::sleep(options.check_every) => {
                    match self.check(api, options).await {
                        Ok(()) => {}
                        Err(lost @ (LeaseError::Lost { .. } | LeaseError::Released { .. })) => {
                            return Err(lost);
                        }
                        // A failed check is not a lost lease: the next one tries again.
                        Err(e) => tracing::warn!("checking the apply lease: {e}"),
                    }
                }
            }
        }
    }

    /// Runs `work` under the lease ([`Lease::hold_while`]) and then releases it, whatever
    /// happened, also when the lease was lost. `before` is the organization as read before the
    /// lease was taken: when another apply held the lease since ([`Lease::serial_moved`]), the
    /// organization is read again with `read`, and `work` does not run if it changed
    /// ([`LeaseError::Changed`]). Returns `work`'s output (or why it did not run or was stopped)
    /// and the release's outcome.
    pub async fn run<A: OrgApi, F: Future>(
        mut self,
        api: &A,
        options: &LeaseOptions,
        read: &ReadOptions,
        before: &LiveState,
        work: F,
    ) -> (Result<F::Output, LeaseError>, Result<(), LeaseError>) {
        let output = match self.unchanged_since(api, read, before).await {
            Ok(()) => self.hold_while(api, options, work).await,
            Err(e) => Err(e),
        };
        let released = self.release(api, options).await;
        (output, released)
    }

    async fn unchanged_since<A: OrgApi>(
        &self,
        api: &A,
        read: &ReadOptions,
        before: &LiveState,
    ) -> Result<(), LeaseError> {
        if !self.serial_moved {
            return Ok(());
        }
        let now = read_live(api, read).await?;
        if now.fingerprint() == before.fingerprint() {
            Ok(())
        } else {
            Err(LeaseError::Changed)
        }
    }

    /// Marks the lease free (keeping its serial), unless another apply holds it now.
    pub async fn release<A: OrgApi>(
        mut self,
        api: &A,
        options: &LeaseOptions,
    ) -> Result<(), LeaseError> {
        let current = read_value(api, &self.root_id).await?;
        if let Some(v) = current.filter(|v| v.held && v.token != self.value.token) {
            return Err(LeaseError::Lost {
                holder: v.holder,
                root_id: self.root_id.clone(),
            });
        }
        self.value.held = false;
        self.value.until = options.now();
        write_value(api, &self.root_id, &self.value).await
    }
}

/// How close to its expiry a lease may no longer be released by token: a release written
/// after the lease expired could overwrite the lease of an apply that took it over meanwhile.
const RELEASE_MARGIN_SECS: u64 = 60;

/// A held lease as `orgctl force-unlock` shows and releases it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLease {
    /// The root carrying the tag.
    pub root_id: String,
    /// The lease's serial (kept when it is released).
    pub serial: u64,
    /// Who holds it.
    pub holder: String,
    /// When it was taken.
    pub since: String,
    /// When it expires.
    pub until: String,
}

/// The lease held now if its token is `token` (read-only): [`LeaseError::NotHeld`] when it is
/// free or absent, [`LeaseError::OtherToken`] when another token holds it, and
/// [`LeaseError::Expiring`] when it expires within a minute (or did).
pub async fn find_by_token<A: OrgApi>(
    api: &A,
    token: &str,
    options: &LeaseOptions,
) -> Result<HeldLease, LeaseError> {
    let (_, held) = held_with_token(api, token, options).await?;
    Ok(held)
}

/// Releases the lease held with `token` (`orgctl force-unlock`), for an apply that was killed
/// while holding it: checks it as [`find_by_token`] does, then marks it `free` as
/// [`Lease::release`] does, keeping its serial and holder, so that an apply which looked at the
/// lease before the killed one took it still sees that the serial moved. Writes nothing when
/// the check fails. Returns what it released.
pub async fn release_by_token<A: OrgApi>(
    api: &A,
    token: &str,
    options: &LeaseOptions,
) -> Result<HeldLease, LeaseError> {
    let (mut value, held) = held_with_token(api, token, options).await?;
    value.held = false;
    value.until = options.now();
    write_value(api, &held.root_id, &value).await?;
    Ok(held)
}

async fn held_with_token<A: OrgApi>(
    api: &A,
    token: &str,
    options: &LeaseOptions,
) -> Result<(Value, HeldLease), LeaseError> {
    let root_id = root_id(api).await?;
    let value = match read_value(api, &root_id).await? {
        Some(v) if v.held => v,
        other => {
            return Err(LeaseError::NotHeld {
                root_id,
                last: other.map_or_else(String::new, |v| {
                    format!(
                        " (last held by {}, since {}, until {})",
                        v.holder,
                        format_utc(v.since),
                        format_utc(v.until)
                    )
                }),
            });
        }
    };
    let (holder, since, until) = (
        value.holder.clone(),
        format_utc(value.since),
        format_utc(value.until),
    );
    if value.token != token {
        return Err(LeaseError::OtherToken {
            token: token.to_owned(),
            holder,
            since,
            until,
        });
    }
    if options.now() + RELEASE_MARGIN_SECS >= value.until {
        return Err(LeaseError::Expiring {
            token: token.to_owned(),
            holder,
            since,
            until,
        });
    }
    let held = HeldLease {
        root_id,
        serial: value.serial,
        holder,
        since,
        until,
    };
    Ok((value, held))
}

/// The holder as a tag value can carry it: letters, digits and `_ . : / + - @`, at most 64.
fn sanitize_holder(holder: &str) -> String {
    let s: String = holder
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '/' | '+' | '-' | '@') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if s.is_empty() { "orgctl".to_owned() } else { s }
}

/// `2026-12-02T09:30:00Z` for seconds since 1970.
pub fn format_utc(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Seconds since 1970 for `2026-12-02T09:30:00Z` (exactly that shape, a real calendar date).
fn parse_utc(s: &str) -> Option<u64> {
    let shape = s.len() == 20 && s.as_bytes()[10] == b'T' && s.ends_with('Z');
    if !shape {
        return None;
    }
    let t: jiff::Timestamp = s.parse().ok()?;
    u64::try_from(t.as_second()).ok()
}

#[cfg(test)]
mod tests;
