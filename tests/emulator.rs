//! The AWS backend ([`orgctl_aws::SdkOrg`]) over real HTTP against the moto emulator.
//!
//! One moto server serves the whole test binary ([`moto`]); every test gets its own management
//! account and organization ([`support::TestOrg`]), so tests run in parallel. What moto cannot
//! do (throttling, 5xx, asynchronous account creation, a stuck `NextToken`) is injected by a
//! small HTTP proxy of our own ([`proxy`], the `orgctl-faultproxy` crate, which the rate benchmark
//! runs as a process).

mod moto;
mod support;
use orgctl_faultproxy as proxy;

/// `orgctl access`: outside trust and root emails through the binary.
mod access;
/// The `orgctl` binary: plan, apply and snapshot on a hand-built organization.
mod cli;
/// `connect()` with the standard chain: endpoint, region and credentials from the environment.
mod connect;
/// `orgctl drift`: hand edits out-of-band, a YAML edit pending, in one run; every class.
mod drift;
/// Throttling, concurrent modification, 5xx, dropped connections, credentials errors and
/// asynchronous account creation, through the fault proxy.
mod faults;
/// Access grants through the binary: roles in the target accounts as the YAML says, a
/// second apply writes nothing, expiry, a new principal in place, reverting, the three PRs.
mod grants;
/// The IAM seam in member accounts (AssumeRole, roles, policies); conformance with `MemoryIam`.
mod iam;
/// `orgctl import` on the hand-built organization: only adoptions, then an empty plan; a grant
/// comes back from its roles.
mod import;
/// The emulator scripts: the launcher dies with its parent; the hand-built seed.
mod scripts;
/// Every `OrgApi` method round-trips through the SDK; pagination and error codes.
mod sdk_org;
