//! The live organization → desired-state files (`orgctl import`). Pure: no IO, no clock; the
//! date the files say they were imported on comes in [`ExportOptions::today`].
//!
//! The files are laid out like the example (`organization.yaml`, `ous.yaml`, `accounts.yaml`,
//! `policies.yaml`, `policies/*.json`, `grants.yaml`), each headed by a comment saying where
//! and when they were imported, and are a deterministic function of the live state (every
//! list is sorted). They are written so that `orgctl plan` against the same organization shows
//! only adoptions (the `managed-by` tag on OUs and policies), except where the organization
//! holds something the format cannot say: each such place is an [`Adjustment`], reported by the
//! command and written as a comment next to the item, and says whether the first plan changes
//! something there.
//!
//! What is not imported: orgctl's bookkeeping tags (`orgctl:` keys) and `managed-by`, AWS's
//! FullAWSAccess (it becomes `full_aws_access`/`root_full_aws_access`), the grants' `description`
//! (roles do not carry it), `member_role` (the default is written), `production`, `checks`
//! beyond what the imported grants need to validate, and `email_domains`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

use orgctl_model::{
    AccountStatus, FULL_AWS_ACCESS, FULL_AWS_ACCESS_ID, GrantSpec, IamRead, LiveAccessRole,
    LiveAccount, LiveOu, LivePolicy, LiveState, MANAGED_BY_KEY, PolicyType, READ_ROLE_DESCRIPTION,
    READ_ROLE_NAME, READ_ROLE_POLICY, READ_ROLE_POLICY_NAME, READ_ROLE_SESSION_SECS,
    READ_ROLE_TAG_VALUE, ROLE_TAG_KEY, ROOT_PATH, SourceLoc, Tags, canonical_json,
    canonical_json_str, child_path, is_managed, trust_policy,
};
use serde_json::Value;

use crate::document::{grammar_problems, identity_problems};
use crate::text::{escape_invisible, first_invisible};
use crate::validate::rules::{
    DEFAULT_POLICIES_PER_TARGET, MAX_POLICIES_PER_TARGET, default_role_name, email_problem,
    iam_name_problem, is_account_id, managed_policy_arn, parse_iam_arn,
};
use crate::{DEFAULT_MAX_GRANT_DAYS, MAX_INLINE_CHARS, MAX_TAGS, MIN_EXTERNAL_ID_CHARS};

/// The prefix of orgctl's bookkeeping tag keys (the apply lease, the records of what was
/// applied): never written into the YAML.
pub const BOOKKEEPING_PREFIX: &str = orgctl_model::BOOKKEEPING_PREFIX;
/// The tag key of the record `apply` leaves on what it manages (accounts included): with
/// `--only-managed`, an account carrying it is imported.
pub const RECORD_KEY: &str = orgctl_model::RECORD_TAG;

/// The files of a desired state, by path relative to the output directory (`/`-separated).
pub type Files = BTreeMap<String, String>;

/// What to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// The date of the import (`YYYY-MM-DD`, UTC): the files' header, and the date the grants'
    /// expiry checks are judged against.
    pub today: String,
    /// Only what orgctl manages: OUs and policies tagged `managed-by: orgctl`, accounts that
    /// carry orgctl's record of an apply or hold a role orgctl manages, and what these need
    /// to validate (their parent OUs).
    pub only_managed: bool,
}

/// One place where the files differ from the organization, or where the organization holds
/// something they cannot say.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Adjustment {
    /// The plan's address of the resource (`ou /A`, `account a`, `policy scp/p`, `grant/g`,
    /// `organization`).
    pub address: String,
    /// What was done and why, in one sentence.
    pub message: String,
    /// Whether the first plan changes something there besides adopting it.
    pub changes_aws: bool,
}

/// How much was imported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// OUs.
    pub ous: usize,
    /// Accounts (the management account included).
    pub accounts: usize,
    /// Customer policies.
    pub policies: usize,
    /// Access grants.
    pub grants: usize,
}

/// The result of [`export`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The files to write.
    pub files: Files,
    /// Every adjustment, sorted by address.
    pub adjustments: Vec<Adjustment>,
    /// What was imported.
    pub counts: Counts,
}

/// The live organization as desired-state files.
pub fn export(live: &LiveState, options: &ExportOptions) -> Export {
    let mut live = live.clone();
    live.normalize();
    Exporter::new(&live, options).run()
}

/// An OU as it is written.
struct OuOut<'a> {
    live: &'a LiveOu,
    path: String,
    tags: Tags,
    full_aws_access: bool,
}

/// An account as it is written.
struct AccountOut<'a> {
    live: &'a LiveAccount,
    name: String,
    ou: String,
    tags: Tags,
    full_aws_access: bool,
}

/// A policy as it is written.
struct PolicyOut<'a> {
    live: &'a LivePolicy,
    document: Value,
    file: String,
    targets: Vec<String>,
    tags: Tags,
}

/// A grant as it is written.
struct GrantOut {
    name: String,
    partner: String,
    owner: String,
    ticket: String,
    principal: String,
    principal_account: String,
    external_id: Option<String>,
    mfa: bool,
    max_session_secs: i32,
    managed: BTreeSet<String>,
    inline: BTreeMap<String, (Value, String)>,
    boundary: Option<String>,
    targets: BTreeSet<String>,
    role_name: String,
    expires: Option<String>,
}

struct Exporter<'a> {
    live: &'a LiveState,
    options: &'a ExportOptions,
    adjustments: Vec<Adjustment>,
    /// Comments written above an item, by address.
    comments: BTreeMap<String, Vec<String>>,
    scp_enabled: bool,
    /// Ids of the roots, OUs and accounts FullAWSAccess is attached to.
    full_access_on: HashSet<&'a str>,
    ou_by_id: HashMap<&'a str, &'a LiveOu>,
    children: HashMap<&'a str, Vec<&'a LiveOu>>,
    /// Every live OU reachable from the root → the path it is written under.
    paths: HashMap<&'a str, String>,
    /// File names taken, lower-cased.
    file_names: HashSet<String>,
}

impl<'a> Exporter<'a> {
    fn new(live: &'a LiveState, options: &'a ExportOptions) -> Self {
        let scp_enabled = live
            .organization
            .enabled_policy_types
            .contains(&PolicyType::ServiceControlPolicy);
        let full_access_on = live
            .policies
            .iter()
            .filter(|p| p.aws_managed && p.id == FULL_AWS_ACCESS_ID || is_full_aws_access(p))
            .flat_map(|p| p.targets.iter().map(String::as_str))
            .collect();
        let mut children: HashMap<&str, Vec<&LiveOu>> = HashMap::new();
        for ou in &live.ous {
            children.entry(ou.parent_id.as_str()).or_default().push(ou);
        }
        Exporter {
            live,
            options,
            adjustments: Vec::new(),
            comments: BTreeMap::new(),
            scp_enabled,
            full_access_on,
            ou_by_id: live.ous.iter().map(|o| (o.id.as_str(), o)).collect(),
            children,
            paths: HashMap::new(),
            file_names: HashSet::new(),
        }
    }

    fn adjust(&mut self, address: &str, message: String, changes_aws: bool) {
        self.comments
            .entry(address.to_owned())
            .or_default()
            .push(message.clone());
        self.adjustments.push(Adjustment {
            address: address.to_owned(),
            message,
            changes_aws,
        });
    }

    fn root(&self) -> &'a str {
        &self.live.organization.root_id
    }

    fn management(&self) -> &'a str {
        &self.live.organization.management_account_id
    }

    fn run(mut self) -> Export {
        self.name_ous();
        let managed_roles: Vec<&LiveAccessRole> = self
            .live
            .access_roles
            .iter()
            .filter(|r| r.is_managed())
            .collect();
        let holds_role: HashSet<&str> = managed_roles
            .iter()
            .map(|r| r.account_id.as_str())
            .collect();

        // Which accounts, policies and OUs.
        let mut accounts = self.accounts(&holds_role);
        let (mut policies, other_policies) = self.policies();
        let mut wanted_ous: BTreeSet<&str> = BTreeSet::new();
        if self.options.only_managed {
            for ou in &self.live.ous {
                if is_managed(&ou.tags) && self.paths.contains_key(ou.id.as_str()) {
                    wanted_ous.insert(ou.id.as_str());
                }
            }
        } else {
            wanted_ous.extend(self.paths.keys().copied());
        }
        for a in &accounts {
            if a.live.parent_id != self.root() {
                wanted_ous.insert(self.ou_by_id[a.live.parent_id.as_str()].id.as_str());
            }
        }
        let mut ou_ids: BTreeSet<&str> = BTreeSet::new();
        for id in wanted_ous {
            let mut at = Some(id);
            while let Some(cur) = at {
                if cur == self.root() || !ou_ids.insert(cur) {
                    break;
                }
                at = self.ou_by_id.get(cur).map(|o| o.parent_id.as_str());
            }
        }
        if self.options.only_managed {
            let pulled: Vec<&LiveOu> = ou_ids
                .iter()
                .map(|id| self.ou_by_id[id])
                .filter(|o| !is_managed(&o.tags))
                .collect();
            for ou in pulled {
                let address = format!("ou {}", self.paths[ou.id.as_str()]);
                self.adjust(
                    &address,
                    format!(
                        "OU {} is not managed by orgctl but holds what is: imported, so the plan \
                         adopts it",
                        ou.id
                    ),
                    false,
                );
            }
        }

        // Tags.
        let ignored = self.ignored_keys(&ou_ids, &accounts, &policies);
        let mut ous: Vec<OuOut> = ou_ids
            .iter()
            .map(|id| {
                let live = self.ou_by_id[id];
                OuOut {
                    live,
                    path: self.paths[*id].clone(),
                    tags: Tags::new(),
                    full_aws_access: !self.scp_enabled || self.full_access_on.contains(*id),
                }
            })
            .collect();
        ous.sort_by(|a, b| a.path.cmp(&b.path));
        for ou in &mut ous {
            let address = format!("ou {}", ou.path);
            ou.tags = self.user_tags(&address, &ou.live.tags, &ignored);
        }
        for a in &mut accounts {
            let address = format!("account {}", a.name);
            a.tags = self.user_tags(&address, &a.live.tags, &ignored);
            a.ou = if a.live.parent_id == self.root() {
                ROOT_PATH.to_owned()
            } else {
                self.paths[a.live.parent_id.as_str()].clone()
            };
        }
        for p in &mut policies {
            let address = policy_address(p.live);
            p.tags = self.user_tags(&address, &p.live.tags, &ignored);
        }

        // FullAWSAccess, and the SCP every target without it needs.
        let mut root_full_aws_access =
            !self.scp_enabled || self.full_access_on.contains(self.root());
        let account_index: HashMap<&str, usize> = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.live.id.as_str(), i))
            .collect();
        let targets_without_full: Vec<(String, String)> =
            std::iter::once((self.root().to_owned(), "organization".to_owned()))
                .filter(|_| !root_full_aws_access)
                .chain(
                    ous.iter()
                        .filter(|o| !o.full_aws_access)
                        .map(|o| (o.live.id.clone(), format!("ou {}", o.path))),
                )
                .chain(
                    accounts
                        .iter()
                        .filter(|a| !a.full_aws_access)
                        .map(|a| (a.live.id.clone(), format!("account {}", a.name))),
                )
                .collect();
        let mut adopted_for_scp: Vec<PolicyOut> = Vec::new();
        for (id, address) in targets_without_full {
            let has_scp = |list: &[PolicyOut]| {
                list.iter().any(|p| {
                    p.live.policy_type == PolicyType::ServiceControlPolicy
                        && p.live.targets.contains(&id)
                })
            };
            if has_scp(&policies) || has_scp(&adopted_for_scp) {
                continue;
            }
            if let Some(extra) = other_policies.iter().find(|p| {
                p.policy_type == PolicyType::ServiceControlPolicy
                    && p.targets.contains(&id)
                    && !adopted_for_scp.iter().any(|a| a.live.id == p.id)
            }) && let Some(mut out) = self.policy_out(extra)
            {
                let paddress = policy_address(extra);
                out.tags = self.user_tags(&paddress, &extra.tags, &ignored);
                self.adjust(
                    &paddress,
                    format!(
                        "policy {} is not managed by orgctl, but {} has no FullAWSAccess and \
                         needs an SCP in the YAML: imported, so the plan adopts it",
                        extra.id,
                        address_words(&address)
                    ),
                    false,
                );
                adopted_for_scp.push(out);
                continue;
            }
            self.adjust(
                &address,
                format!(
                    "{} has no {FULL_AWS_ACCESS} and no service control policy that can be \
                     written in the YAML; the YAML keeps {FULL_AWS_ACCESS} there, so the plan \
                     attaches it (this widens access: attach an SCP of yours there first, or \
                     edit the YAML)",
                    address_words(&address)
                ),
                true,
            );
            if id == self.root() {
                root_full_aws_access = true;
            } else if let Some(ou) = ous.iter_mut().find(|o| o.live.id == id) {
                ou.full_aws_access = true;
            } else if let Some(i) = account_index.get(id.as_str()) {
                accounts[*i].full_aws_access = true;
            }
        }
        policies.extend(adopted_for_scp);
        policies.sort_by(|a, b| a.live.name.cmp(&b.live.name));

        // Policy targets, and the per-target limit they need.
        let ou_paths: HashMap<&str, &str> = ous
            .iter()
            .map(|o| (o.live.id.as_str(), o.path.as_str()))
            .collect();
        let account_names: HashMap<&str, &str> = accounts
            .iter()
            .filter(|a| a.live.status == AccountStatus::Active)
            .map(|a| (a.live.id.as_str(), a.name.as_str()))
            .collect();
        let mut per_target: HashMap<(&str, PolicyType), u32> = HashMap::new();
        for p in &mut policies {
            let mut targets = Vec::new();
            for t in &p.live.targets {
                let written = if t == self.root() {
                    Some("root".to_owned())
                } else if let Some(path) = ou_paths.get(t.as_str()) {
                    Some((*path).to_owned())
                } else {
                    account_names.get(t.as_str()).map(|n| (*n).to_owned())
                };
                if let Some(w) = written {
                    targets.push(w);
                    *per_target
                        .entry((t.as_str(), p.live.policy_type))
                        .or_default() += 1;
                }
            }
            targets.sort();
            p.targets = targets;
        }
        let ou_keeps_full: HashMap<&str, bool> = ous
            .iter()
            .map(|o| (o.live.id.as_str(), o.full_aws_access))
            .collect();
        let keeps_full = |id: &str| -> bool {
            if id == self.root() {
                root_full_aws_access
            } else if let Some(full) = ou_keeps_full.get(id) {
                *full
            } else {
                account_index
                    .get(id)
                    .is_none_or(|i| accounts[*i].full_aws_access)
            }
        };
        let most = per_target
            .iter()
            .map(|((id, ty), n)| {
                n + u32::from(*ty == PolicyType::ServiceControlPolicy && keeps_full(id))
            })
            .max()
            .unwrap_or(0);
        let limit = most.clamp(DEFAULT_POLICIES_PER_TARGET, MAX_POLICIES_PER_TARGET);

        // Grants and orgctl's read role.
        let listed_ids: HashSet<&str> = accounts.iter().map(|a| a.live.id.as_str()).collect();
        let (grants, plan_role, checks) = self.grants(&managed_roles, &accounts, &listed_ids);

        let counts = Counts {
            ous: ous.len(),
            accounts: accounts.len(),
            policies: policies.len(),
            grants: grants.len(),
        };
        let mut files = Files::new();
        files.insert(
            "organization.yaml".into(),
            self.organization_yaml(root_full_aws_access, limit, &ignored, plan_role.as_deref()),
        );
        files.insert("ous.yaml".into(), self.ous_yaml(&ous));
        files.insert("accounts.yaml".into(), self.accounts_yaml(&accounts));
        files.insert("policies.yaml".into(), self.policies_yaml(&policies));
        for p in &policies {
            files.insert(p.file.clone(), pretty(&p.document));
        }
        files.insert("grants.yaml".into(), self.grants_yaml(&grants, &checks));
        for g in &grants {
            for (document, file) in g.inline.values() {
                files.insert(file.clone(), pretty(document));
            }
        }
        let mut adjustments = self.adjustments;
        adjustments.sort();
        adjustments.dedup();
        Export {
            files,
            adjustments,
            counts,
        }
    }

    // -----------------------------------------------------------------------------------------
    // OUs
    // -----------------------------------------------------------------------------------------

    /// Gives every OU reachable from the root a name the format accepts, unique among its
    /// siblings, and its path.
    fn name_ous(&mut self) {
        let mut stack: Vec<(&'a str, String)> = vec![(self.root(), ROOT_PATH.to_owned())];
        let mut renames: Vec<(String, String, &'a LiveOu)> = Vec::new();
        while let Some((parent, parent_path)) = stack.pop() {
            let mut kids: Vec<&'a LiveOu> = self.children.get(parent).cloned().unwrap_or_default();
            kids.sort_by(|a, b| a.id.cmp(&b.id));
            let live_names: HashSet<&str> = kids.iter().map(|k| k.name.as_str()).collect();
            let mut taken: HashSet<String> = HashSet::new();
            // Valid names first, so they keep their names.
            let (valid, invalid): (Vec<&LiveOu>, Vec<&LiveOu>) =
                kids.iter().partition(|k| ou_name_ok(&k.name));
            for kid in valid {
                taken.insert(kid.name.clone());
                let path = child_path(&parent_path, &kid.name);
                self.paths.insert(kid.id.as_str(), path.clone());
                stack.push((kid.id.as_str(), path));
            }
            for kid in invalid {
                let base: String = kid
                    .name
                    .chars()
                    .map(|c| if c == '/' || is_hidden(c) { '-' } else { c })
                    .collect();
                let mut name = base.clone();
                if live_names.contains(name.as_str()) || taken.contains(&name) {
                    let suffix = kid.id.rsplit('-').next().unwrap_or(&kid.id).to_owned();
                    let keep = 127usize.saturating_sub(suffix.chars().count());
                    name = format!("{}-{suffix}", base.chars().take(keep).collect::<String>());
                }
                taken.insert(name.clone());
                let path = child_path(&parent_path, &name);
                renames.push((path.clone(), kid.name.clone(), kid));
                self.paths.insert(kid.id.as_str(), path.clone());
                stack.push((kid.id.as_str(), path));
            }
        }
        renames.sort_by(|a, b| a.0.cmp(&b.0));
        for (path, live_name, ou) in renames {
            let address = format!("ou {path}");
            self.adjust(
                &address,
                format!(
                    "OU {} is named `{}` in AWS, which the YAML cannot say (a `/` or a character \
                     that does not show): written as `{}`, so the plan renames it",
                    ou.id,
                    escape_invisible(&live_name),
                    path.rsplit('/').next().unwrap_or_default()
                ),
                true,
            );
        }
    }

    // -----------------------------------------------------------------------------------------
    // Accounts
    // -----------------------------------------------------------------------------------------

    /// The accounts to write, with names the format accepts.
    fn accounts(&mut self, holds_role: &HashSet<&str>) -> Vec<AccountOut<'a>> {
        let mut out = Vec::new();
        let mut emails: HashSet<String> = HashSet::new();
        for a in &self.live.accounts {
            if self.options.only_managed
                && !a.tags.contains_key(RECORD_KEY)
                && !holds_role.contains(a.id.as_str())
            {
                continue;
            }
            let address = format!("account {}", a.name);
            if a.parent_id != self.root() && !self.paths.contains_key(a.parent_id.as_str()) {
                self.adjust(
                    &address,
                    format!(
                        "account {} is under {}, which is not in the organization's tree: not \
                         imported",
                        a.id, a.parent_id
                    ),
                    false,
                );
                continue;
            }
            if let Some(problem) = email_problem(&a.email) {
                self.adjust(
                    &address,
                    format!(
                        "account {}'s root email cannot be written in the YAML ({}): not \
                         imported, orgctl leaves it alone",
                        a.id,
                        escape_invisible(&problem)
                    ),
                    false,
                );
                continue;
            }
            if !emails.insert(a.email.to_lowercase()) {
                self.adjust(
                    &address,
                    format!(
                        "account {}'s root email {} is another account's too (emails compare \
                         case-insensitively): not imported",
                        a.id, a.email
                    ),
                    false,
                );
                continue;
            }
            out.push(AccountOut {
                live: a,
                name: String::new(),
                ou: String::new(),
                tags: Tags::new(),
                full_aws_access: a.status.is_closed()
                    || !self.scp_enabled
                    || self.full_access_on.contains(a.id.as_str()),
            });
        }
        // Names: valid ones first (by id), then the others made valid.
        let mut taken: HashSet<String> = HashSet::new();
        let mut renamed = Vec::new();
        for a in &mut out {
            if account_name_ok(&a.live.name) && taken.insert(a.live.name.clone()) {
                a.name = a.live.name.clone();
            }
        }
        let all_live: HashSet<&str> = self.live.accounts.iter().map(|a| a.name.as_str()).collect();
        for a in &mut out {
            if !a.name.is_empty() {
                continue;
            }
            let base = a.live.name.trim_start_matches('/');
            let base = if base.is_empty() { "account" } else { base };
            let keep = 50 - 13;
            let mut name = format!(
                "{}-{}",
                base.chars().take(keep).collect::<String>(),
                a.live.id
            );
            if taken.contains(&name) || all_live.contains(name.as_str()) {
                name = format!("account-{}", a.live.id);
            }
            taken.insert(name.clone());
            a.name = name;
            renamed.push((a.name.clone(), a.live.name.clone(), a.live.id.clone()));
        }
        for (name, live_name, id) in renamed {
            let why = if live_name == "root" {
                "`root` names the organization root in policy targets"
            } else if live_name.starts_with('/') {
                "a name starting with `/` reads as an OU path"
            } else if is_account_id(&live_name) {
                "a 12-digit name reads as an account id"
            } else {
                "another account has that name"
            };
            self.adjust(
                &format!("account {name}"),
                format!(
                    "account {id} is named `{}` in AWS, which the YAML cannot use ({why}): \
                     written as `{name}` (orgctl does not rename accounts: the plan warns that \
                     the names differ)",
                    escape_invisible(&live_name)
                ),
                false,
            );
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        for a in &out {
            if a.live.status.is_closed() {
                self.adjust(
                    &format!("account {}", a.name),
                    format!(
                        "account {} is closed ({}): written with `lifecycle: closed`",
                        a.live.id,
                        status_words(a.live.status)
                    ),
                    false,
                );
            }
        }
        out
    }

    // -----------------------------------------------------------------------------------------
    // Policies
    // -----------------------------------------------------------------------------------------

    /// The customer policies to write, and the valid ones left out (`--only-managed`).
    fn policies(&mut self) -> (Vec<PolicyOut<'a>>, Vec<&'a LivePolicy>) {
        let mut out = Vec::new();
        let mut left_out = Vec::new();
        let mut names: HashSet<&str> = HashSet::new();
        for p in &self.live.policies {
            if p.aws_managed || is_full_aws_access(p) {
                continue;
            }
            let address = policy_address(p);
            let problem = policy_problem(p).or_else(|| {
                (!names.insert(p.name.as_str()))
                    .then(|| "another policy has the same name".to_owned())
            });
            if let Some(problem) = problem {
                let fate = if is_managed(&p.tags) {
                    (
                        "it is tagged managed-by: orgctl, so the plan deletes it where it is \
                         attached only to targets of the YAML; fix it in AWS first",
                        true,
                    )
                } else {
                    ("orgctl leaves it alone", false)
                };
                self.adjust(
                    &address,
                    format!(
                        "policy {} cannot be written in the YAML ({}): not imported; {}",
                        p.id,
                        escape_invisible(&problem),
                        fate.0
                    ),
                    fate.1,
                );
                continue;
            }
            if self.options.only_managed && !is_managed(&p.tags) {
                left_out.push(p);
                continue;
            }
            if let Some(o) = self.policy_out(p) {
                out.push(o);
            }
        }
        (out, left_out)
    }

    fn policy_out(&mut self, p: &'a LivePolicy) -> Option<PolicyOut<'a>> {
        let document: Value = serde_json::from_str(&p.content).ok()?;
        let file = self.file_name("policies/", &p.name);
        Some(PolicyOut {
            live: p,
            document,
            file,
            targets: Vec::new(),
            tags: Tags::new(),
        })
    }

    /// A file name under `dir` for `name`, unique (case-insensitively) among those given.
    fn file_name(&mut self, dir: &str, name: &str) -> String {
        let mut slug: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '-'
                }
            })
            .take(100)
            .collect();
        if slug.starts_with('.') || slug.is_empty() {
            slug.insert(0, 'p');
        }
        let mut candidate = format!("{dir}{slug}.json");
        let mut n = 2;
        while !self.file_names.insert(candidate.to_lowercase()) {
            candidate = format!("{dir}{slug}-{n}.json");
            n += 1;
        }
        candidate
    }

    // -----------------------------------------------------------------------------------------
    // Tags
    // -----------------------------------------------------------------------------------------

    /// Keys whose values cannot be written somewhere (a character that does not show): listed
    /// in `ignore_tag_keys`, so orgctl leaves them alone everywhere.
    fn ignored_keys(
        &mut self,
        ous: &BTreeSet<&str>,
        accounts: &[AccountOut<'_>],
        policies: &[PolicyOut<'_>],
    ) -> BTreeSet<String> {
        let all_tags = ous
            .iter()
            .map(|id| &self.ou_by_id[id].tags)
            .chain(accounts.iter().map(|a| &a.live.tags))
            .chain(policies.iter().map(|p| &p.live.tags));
        let mut ignored = BTreeSet::new();
        for tags in all_tags {
            for (k, v) in tags {
                if writable_key(k) && first_invisible(v).is_some() {
                    ignored.insert(k.clone());
                }
            }
        }
        for k in ignored.clone() {
            self.adjust(
                "organization",
                format!(
                    "tag key `{k}` has a value somewhere that the YAML cannot say (a character \
                     that does not show): listed in ignore_tag_keys, so orgctl leaves it alone \
                     on every resource"
                ),
                false,
            );
        }
        ignored
    }

    /// The tags the YAML gives a resource: bookkeeping, `managed-by` and ignored keys left
    /// out; keys that cannot be written are reported (the plan removes them).
    fn user_tags(&mut self, address: &str, tags: &Tags, ignored: &BTreeSet<String>) -> Tags {
        if let Some(owner) = tags.get(MANAGED_BY_KEY)
            && owner != orgctl_model::MANAGED_BY_VALUE
            && !address.starts_with("account ")
        {
            self.adjust(
                address,
                format!(
                    "it is tagged managed-by: {}: the plan adopts it (managed-by: orgctl), so \
                     make sure that tool no longer manages it",
                    escape_invisible(owner)
                ),
                false,
            );
        }
        let mut out = Tags::new();
        for (k, v) in tags {
            if k.starts_with(BOOKKEEPING_PREFIX) || k == MANAGED_BY_KEY || ignored.contains(k) {
                continue;
            }
            if !writable_key(k) {
                self.adjust(
                    address,
                    format!(
                        "tag key `{}` cannot be written in the YAML (a character that does not \
                         show): the plan removes it",
                        escape_invisible(k)
                    ),
                    true,
                );
                continue;
            }
            out.insert(k.clone(), v.clone());
        }
        // orgctl's record (`orgctl:applied`) everywhere, and `managed-by` on OUs and policies
        // or the roles record (`orgctl:roles`) on accounts.
        let room = MAX_TAGS - 2;
        if out.len() > room {
            self.adjust(
                address,
                format!(
                    "{} tags leave no room for orgctl's own ({room} at most in the YAML): the \
                     YAML keeps the first {room} by key, so the plan removes the others",
                    out.len()
                ),
                true,
            );
            out = out.into_iter().take(room).collect();
        }
        out
    }

    // -----------------------------------------------------------------------------------------
    // Grants
    // -----------------------------------------------------------------------------------------

    /// The grants orgctl's managed roles make up, the plan role (when orgctl's read role is in
    /// every account the YAML lists), and the checks they need switched off or widened.
    fn grants(
        &mut self,
        roles: &[&'a LiveAccessRole],
        accounts: &[AccountOut<'_>],
        listed_ids: &HashSet<&str>,
    ) -> (Vec<GrantOut>, Option<String>, Checks) {
        let name_of: HashMap<&str, &str> = accounts
            .iter()
            .map(|a| (a.live.id.as_str(), a.name.as_str()))
            .collect();
        let mut by_grant: BTreeMap<&str, Vec<&LiveAccessRole>> = BTreeMap::new();
        let mut read_roles: Vec<&LiveAccessRole> = Vec::new();
        for r in roles {
            if r.is_read_role() {
                read_roles.push(r);
            } else if let Some(g) = r.grant() {
                by_grant.entry(g).or_default().push(r);
            } else {
                self.adjust(
                    &format!("iam role {} in account {}", r.role_name, r.account_id),
                    format!(
                        "role {} in account {} is tagged managed-by: orgctl but belongs to no \
                         grant: the plan deletes it",
                        r.role_name, r.account_id
                    ),
                    true,
                );
            }
        }
        let plan_role = self.plan_role(&read_roles, accounts);

        let mut grants = Vec::new();
        let mut grant_names: HashSet<String> = HashSet::new();
        for (tag, group) in by_grant {
            let listed: Vec<&LiveAccessRole> = group
                .iter()
                .copied()
                .filter(|r| name_of.contains_key(r.account_id.as_str()))
                .collect();
            let mut name = if iam_name_problem("", tag, 64).is_none() {
                tag.to_owned()
            } else {
                let s: String = tag
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                            c
                        } else {
                            '-'
                        }
                    })
                    .take(64)
                    .collect();
                if s.is_empty() {
                    "imported".to_owned()
                } else {
                    s
                }
            };
            let mut n = 2;
            while !grant_names.insert(name.clone()) {
                name = format!("{}-{n}", name.chars().take(60).collect::<String>());
                n += 1;
            }
            let address = format!("grant/{name}");
            if name != tag {
                self.adjust(
                    &address,
                    format!(
                        "the roles of grant `{}` carry a name the YAML cannot use: written as \
                         `{name}`, so the plan retags its roles",
                        escape_invisible(tag)
                    ),
                    true,
                );
            }
            // The role most of the grant's roles agree with.
            let mut kinds: Vec<(Vec<&LiveAccessRole>, RoleKey)> = Vec::new();
            for r in &listed {
                let key = RoleKey::of(r);
                match kinds.iter_mut().find(|(_, k)| *k == key) {
                    Some((list, _)) => list.push(r),
                    None => kinds.push((vec![r], key)),
                }
            }
            kinds.sort_by(|a, b| {
                b.0.len()
                    .cmp(&a.0.len())
                    .then(a.0[0].account_id.cmp(&b.0[0].account_id))
            });
            if kinds.is_empty() {
                self.adjust(
                    &address,
                    format!(
                        "grant `{}` has roles only in accounts that are not imported: not \
                         imported, so the plan deletes its roles",
                        escape_invisible(tag)
                    ),
                    true,
                );
                continue;
            }
            // The first kind of role (most common first) a grant can be written from.
            let mut found = Err(String::new());
            for (roles, _) in &kinds {
                found = self.grant_from_role(&name, roles[0]);
                if found.is_ok() {
                    break;
                }
            }
            let grant = match found {
                Ok(g) => g,
                Err(why) => {
                    self.adjust(
                        &address,
                        format!(
                            "grant `{}` cannot be written in the YAML ({why}): not imported, so \
                             the plan deletes its roles",
                            escape_invisible(tag)
                        ),
                        true,
                    );
                    continue;
                }
            };
            let mut grant = grant;
            grant.targets = listed
                .iter()
                .filter_map(|r| name_of.get(r.account_id.as_str()).map(|n| (*n).to_owned()))
                .collect();
            // What the plan will do to each role.
            let want = desired_role(&grant);
            for r in &group {
                let account = name_of
                    .get(r.account_id.as_str())
                    .map_or(r.account_id.as_str(), |n| n);
                if !name_of.contains_key(r.account_id.as_str()) {
                    self.adjust(
                        &address,
                        format!(
                            "its role in account {} (not imported) is not a target: the plan \
                             deletes it",
                            r.account_id
                        ),
                        true,
                    );
                    continue;
                }
                let have = RoleKey::of(r);
                if have != want {
                    self.adjust(
                        &address,
                        format!(
                            "its role {} in account {account} differs from what the grant makes \
                             ({}): the plan changes it",
                            r.role_name,
                            have.differences(&want).join(", ")
                        ),
                        true,
                    );
                }
            }
            if grant
                .expires
                .as_deref()
                .is_some_and(|e| *e < *self.options.today)
            {
                self.adjust(
                    &address,
                    format!(
                        "grant `{name}` expired on {}: the plan deletes its roles",
                        grant.expires.as_deref().unwrap_or_default()
                    ),
                    true,
                );
            }
            grants.push(grant);
        }
        grants.sort_by(|a, b| a.name.cmp(&b.name));
        let checks = self.checks(&grants, listed_ids);
        (grants, plan_role, checks)
    }

    /// The plan role: the principal orgctl's read roles trust, when one is in every readable
    /// ACTIVE member account the YAML lists.
    fn plan_role(
        &mut self,
        read_roles: &[&LiveAccessRole],
        accounts: &[AccountOut<'_>],
    ) -> Option<String> {
        if read_roles.is_empty() {
            return None;
        }
        let mut principals: BTreeMap<String, usize> = BTreeMap::new();
        for r in read_roles {
            if let Ok(t) = parse_trust(&r.trust_policy) {
                *principals.entry(t.principal).or_default() += 1;
            }
        }
        let principal = principals
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(p, _)| p.clone());
        let readable: HashSet<&str> = self
            .live
            .iam_accounts
            .iter()
            .filter(|a| a.read.is_readable())
            .map(|a| a.account_id.as_str())
            .collect();
        let unread: HashSet<&str> = self
            .live
            .iam_accounts
            .iter()
            .filter(|a| matches!(a.read, IamRead::Unreadable { .. }))
            .map(|a| a.account_id.as_str())
            .collect();
        let having: HashSet<&str> = read_roles.iter().map(|r| r.account_id.as_str()).collect();
        let missing: Vec<&str> = accounts
            .iter()
            .filter(|a| {
                a.live.status == AccountStatus::Active
                    && a.live.id != self.management()
                    && !unread.contains(a.live.id.as_str())
                    && (readable.contains(a.live.id.as_str()) || self.live.iam_accounts.is_empty())
                    && !having.contains(a.live.id.as_str())
            })
            .map(|a| a.name.as_str())
            .collect();
        let valid = principal.as_deref().is_some_and(|p| {
            parse_iam_arn(p)
                .is_some_and(|arn| arn.kind == "role" && arn.account == self.management())
        });
        let plan_role =
            (missing.is_empty() && valid).then(|| principal.clone().unwrap_or_default());
        let address = "grant/read-role";
        match &plan_role {
            None => {
                let why = if valid {
                    format!("it is missing in {}", missing.join(", "))
                } else {
                    "it does not trust a role of the management account".to_owned()
                };
                self.adjust(
                    address,
                    format!(
                        "orgctl's read role is in {} account(s) but {why}: plan_role is not \
                         set, so the plan deletes the read roles (set plan_role to keep them)",
                        read_roles.len()
                    ),
                    true,
                );
            }
            Some(p) => {
                let want = RoleKey::read_role(p);
                for r in read_roles {
                    let have = RoleKey::of(r);
                    if have != want {
                        self.adjust(
                            address,
                            format!(
                                "orgctl's read role in account {} differs from the one orgctl \
                                 keeps ({}): the plan changes it",
                                r.account_id,
                                have.differences(&want).join(", ")
                            ),
                            true,
                        );
                    }
                }
            }
        }
        plan_role
    }

    /// A grant from one of its roles (the partner, owner and ticket from its description).
    fn grant_from_role(&mut self, name: &str, r: &LiveAccessRole) -> Result<GrantOut, String> {
        let trust = parse_trust(&r.trust_policy)?;
        let arn = parse_iam_arn(&trust.principal).ok_or_else(|| {
            format!(
                "its trust policy's principal `{}` is not an account, role or user ARN",
                escape_invisible(&trust.principal)
            )
        })?;
        let principal = if arn.kind == "root" && arn.partition == "aws" {
            arn.account.to_owned()
        } else {
            trust.principal.clone()
        };
        let principal_account = arn.account.to_owned();
        if let Some(id) = &trust.external_id
            && crate::validate::rules::external_id_problem(id).is_some()
        {
            return Err("its external id is not one STS accepts".to_owned());
        }
        if r.role_name.eq_ignore_ascii_case(READ_ROLE_NAME) {
            return Err(format!(
                "its role is named {READ_ROLE_NAME}, orgctl's read role"
            ));
        }
        let expires = trust.ends.as_deref().map(expires_before).transpose()?;
        let described = parse_description(name, &r.description, expires.as_deref());
        let (partner, owner, ticket) = described.unwrap_or_else(|| {
            (
                "unknown (imported)".to_owned(),
                "unknown (imported)".to_owned(),
                "imported by orgctl import".to_owned(),
            )
        });
        let mut inline = BTreeMap::new();
        let mut inline_chars = 0;
        for (policy, doc) in &r.inline_policies {
            let value: Value = serde_json::from_str(doc)
                .map_err(|_| format!("its inline policy {policy} is not JSON"))?;
            let ok = iam_name_problem("", policy, 128).is_none()
                && value
                    .as_object()
                    .is_some_and(|o| identity_problems(o).is_empty());
            if !ok {
                return Err(format!(
                    "its inline policy {policy} is not one the YAML accepts"
                ));
            }
            inline_chars += canonical_json(&value).chars().count();
            inline.insert(policy.clone(), value);
        }
        if inline_chars > MAX_INLINE_CHARS {
            return Err("its inline policies are longer than IAM allows".to_owned());
        }
        for arn in r
            .managed_policies
            .iter()
            .chain(r.permissions_boundary.iter())
        {
            if managed_policy_arn(arn).is_err() {
                return Err(format!(
                    "`{}` is not a managed policy ARN",
                    escape_invisible(arn)
                ));
            }
        }
        if r.managed_policies.is_empty() && r.inline_policies.is_empty() {
            return Err("its role gives no permissions".to_owned());
        }
        if r.managed_policies.len() > crate::MAX_MANAGED_POLICIES {
            return Err("it has more managed policies than IAM allows".to_owned());
        }
        let max_session_secs = (r.max_session_secs / 60 * 60).clamp(3600, 43_200);
        let inline = inline
            .into_iter()
            .map(|(policy, value)| {
                let file = self.file_name("policies/grants/", &format!("{name}.{policy}"));
                (policy, (value, file))
            })
            .collect();
        Ok(GrantOut {
            name: name.to_owned(),
            partner,
            owner,
            ticket,
            principal,
            principal_account,
            external_id: trust.external_id,
            mfa: trust.mfa,
            max_session_secs,
            managed: r.managed_policies.clone(),
            inline,
            boundary: r.permissions_boundary.clone(),
            targets: BTreeSet::new(),
            role_name: r.role_name.clone(),
            expires,
        })
    }

    /// The checks the imported grants need to validate: switched off with a reason, or
    /// `max_grant_days` widened.
    fn checks(&mut self, grants: &[GrantOut], listed_ids: &HashSet<&str>) -> Checks {
        let mut checks = Checks::default();
        let today = crate::validate::parse_date(&self.options.today);
        for g in grants {
            let external = g.principal_account != self.management()
                && !listed_ids.contains(g.principal_account.as_str());
            if external && g.external_id.is_none() {
                checks
                    .off
                    .entry("external-id")
                    .or_default()
                    .push(g.name.clone());
            }
            if external && g.expires.is_none() {
                checks
                    .off
                    .entry("external-expires")
                    .or_default()
                    .push(g.name.clone());
            }
            if g.external_id
                .as_ref()
                .is_some_and(|e| e.chars().count() < MIN_EXTERNAL_ID_CHARS || is_account_id(e))
            {
                checks
                    .off
                    .entry("external-id-strength")
                    .or_default()
                    .push(g.name.clone());
            }
            if let (Some(today), Some(e)) = (
                today,
                g.expires.as_deref().and_then(crate::validate::parse_date),
            ) {
                let days = today.until(e).ok().map(|s| i64::from(s.get_days()));
                if let Some(days) = days
                    && days > i64::from(DEFAULT_MAX_GRANT_DAYS)
                {
                    if days <= 3650 {
                        checks.max_grant_days = checks
                            .max_grant_days
                            .max(u32::try_from(days).unwrap_or(3650));
                    } else {
                        checks
                            .off
                            .entry("max-grant-days")
                            .or_default()
                            .push(g.name.clone());
                    }
                }
            }
        }
        for (rule, names) in &checks.off {
            self.adjust(
                "checks",
                format!(
                    "rule {rule} is switched off: the imported grants {} break it (review them)",
                    names.join(", ")
                ),
                false,
            );
        }
        if checks.max_grant_days > 0 {
            self.adjust(
                "checks",
                format!(
                    "max_grant_days is {}: an imported grant lasts that long",
                    checks.max_grant_days
                ),
                false,
            );
        }
        checks
    }

    // -----------------------------------------------------------------------------------------
    // Files
    // -----------------------------------------------------------------------------------------

    fn header(&self, what: &str) -> String {
        format!(
            "# {what}\n#\n# Imported by `orgctl import` from organization {} (management account {}) on \
             {}.\n# Review it, then run `orgctl plan`: the first plan adopts what orgctl does not \
             manage yet\n# (see docs/adopting.md).\n\n",
            escape_invisible(&self.live.organization.id),
            self.management(),
            self.options.today
        )
    }

    fn comments(&self, out: &mut String, address: &str, indent: &str) {
        for c in self.comments.get(address).into_iter().flatten() {
            let _ = writeln!(out, "{indent}# {}", comment_text(c));
        }
    }

    fn organization_yaml(
        &self,
        root_full_aws_access: bool,
        limit: u32,
        ignored: &BTreeSet<String>,
        plan_role: Option<&str>,
    ) -> String {
        let mut s = self.header("Organization-wide settings.");
        self.comments(&mut s, "organization", "");
        self.comments(&mut s, "grant/read-role", "");
        s.push_str("organization:\n");
        let _ = writeln!(s, "  management_account_id: {}", quoted(self.management()));
        let types: Vec<&str> = self
            .live
            .organization
            .enabled_policy_types
            .iter()
            .map(|t| match t {
                PolicyType::ServiceControlPolicy => "service_control_policy",
                PolicyType::TagPolicy => "tag_policy",
            })
            .collect();
        list(&mut s, "  ", "enabled_policy_types", &types);
        s.push_str("  # The management account is never moved or closed.\n");
        list(
            &mut s,
            "  ",
            "protected_accounts",
            &[&quoted(self.management())],
        );
        if limit != DEFAULT_POLICIES_PER_TARGET {
            let _ = writeln!(s, "  policies_per_target_limit: {limit}");
        }
        if !root_full_aws_access {
            s.push_str("  root_full_aws_access: false\n");
        }
        if !ignored.is_empty() {
            let keys: Vec<String> = ignored.iter().map(|k| scalar(k)).collect();
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            list(&mut s, "  ", "ignore_tag_keys", &keys);
        }
        if let Some(p) = plan_role {
            let _ = writeln!(s, "  plan_role: {}", scalar(p));
        }
        s
    }

    fn ous_yaml(&self, ous: &[OuOut<'_>]) -> String {
        let mut s = self.header("The OU tree, each OU pinned by its id.");
        if ous.is_empty() {
            s.push_str("ous: []\n");
            return s;
        }
        s.push_str("ous:\n");
        for (i, ou) in ous.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            self.comments(&mut s, &format!("ou {}", ou.path), "  ");
            let _ = writeln!(s, "  - path: {}", scalar(&ou.path));
            let _ = writeln!(s, "    id: {}", scalar(&ou.live.id));
            tags(&mut s, &ou.tags);
            if !ou.full_aws_access {
                s.push_str("    full_aws_access: false\n");
            }
        }
        s
    }

    fn accounts_yaml(&self, accounts: &[AccountOut<'_>]) -> String {
        let mut s =
            self.header("Member accounts (and the management account), pinned by their ids.");
        if accounts.is_empty() {
            s.push_str("accounts: []\n");
            return s;
        }
        s.push_str("accounts:\n");
        for (i, a) in accounts.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            self.comments(&mut s, &format!("account {}", a.name), "  ");
            if a.live.id == self.management() {
                s.push_str("  # The management account (protected in organization.yaml).\n");
            }
            let _ = writeln!(s, "  - name: {}", scalar(&a.name));
            let _ = writeln!(s, "    id: {}", quoted(&a.live.id));
            let _ = writeln!(s, "    email: {}", scalar(&a.live.email));
            let _ = writeln!(s, "    ou: {}", scalar(&a.ou));
            tags(&mut s, &a.tags);
            if a.live.status.is_closed() {
                s.push_str("    lifecycle: closed\n");
            }
            if !a.full_aws_access {
                s.push_str("    full_aws_access: false\n");
            }
        }
        s
    }

    fn policies_yaml(&self, policies: &[PolicyOut<'_>]) -> String {
        let mut s = self.header(
            "Service control and tag policies; their documents are in policies/ (pretty JSON, keys sorted).",
        );
        if policies.is_empty() {
            s.push_str("policies: []\n");
            return s;
        }
        s.push_str("policies:\n");
        for (i, p) in policies.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            self.comments(&mut s, &policy_address(p.live), "  ");
            let _ = writeln!(s, "  - name: {}", scalar(&p.live.name));
            let _ = writeln!(
                s,
                "    type: {}",
                match p.live.policy_type {
                    PolicyType::ServiceControlPolicy => "service_control_policy",
                    PolicyType::TagPolicy => "tag_policy",
                }
            );
            if !p.live.description.is_empty() {
                let _ = writeln!(s, "    description: {}", scalar(&p.live.description));
            }
            let _ = writeln!(s, "    document_file: {}", scalar(&p.file));
            let targets: Vec<String> = p.targets.iter().map(|t| scalar(t)).collect();
            let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
            list(&mut s, "    ", "targets", &targets);
            tags(&mut s, &p.tags);
        }
        s
    }

    fn grants_yaml(&self, grants: &[GrantOut], checks: &Checks) -> String {
        let mut s = self.header(
            "Access grants, from the roles orgctl keeps under /orgctl/ in the member accounts.",
        );
        if grants.is_empty() {
            s.push_str("grants: []\n");
        } else {
            s.push_str("grants:\n");
        }
        for (i, g) in grants.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            self.comments(&mut s, &format!("grant/{}", g.name), "  ");
            let _ = writeln!(s, "  - name: {}", scalar(&g.name));
            let _ = writeln!(s, "    partner: {}", scalar(&g.partner));
            let _ = writeln!(s, "    owner: {}", scalar(&g.owner));
            let _ = writeln!(s, "    ticket: {}", scalar(&g.ticket));
            let _ = writeln!(s, "    principal: {}", quoted_if_id(&g.principal));
            if let Some(e) = &g.external_id {
                let _ = writeln!(s, "    external_id: {}", scalar(e));
            }
            if g.mfa {
                s.push_str("    mfa: true\n");
            }
            if g.max_session_secs != 3600 {
                let _ = writeln!(s, "    max_session: {}", session(g.max_session_secs));
            }
            s.push_str("    permissions:\n");
            if !g.managed.is_empty() {
                let managed: Vec<String> = g
                    .managed
                    .iter()
                    .map(|a| scalar(&policy_written(a)))
                    .collect();
                let managed: Vec<&str> = managed.iter().map(String::as_str).collect();
                list(&mut s, "      ", "managed", &managed);
            }
            if !g.inline.is_empty() {
                s.push_str("      inline:\n");
                for (name, (_, file)) in &g.inline {
                    let _ = writeln!(s, "        - name: {}", scalar(name));
                    let _ = writeln!(s, "          document_file: {}", scalar(file));
                }
            }
            if let Some(b) = &g.boundary {
                let _ = writeln!(
                    s,
                    "      permissions_boundary: {}",
                    scalar(&policy_written(b))
                );
            }
            if g.managed.is_empty() && g.inline.is_empty() && g.boundary.is_none() {
                s.push_str("      managed: []\n");
            }
            let targets: Vec<String> = g.targets.iter().map(|t| scalar(t)).collect();
            let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
            list(&mut s, "    ", "targets", &targets);
            if g.role_name != default_role_name(&g.name) {
                let _ = writeln!(s, "    role_name: {}", scalar(&g.role_name));
            }
            if let Some(e) = &g.expires {
                let _ = writeln!(s, "    expires: {}", quoted(e));
            }
        }
        if checks.max_grant_days > 0 || !checks.off.is_empty() {
            s.push('\n');
            self.comments(&mut s, "checks", "");
            s.push_str("checks:\n");
            if checks.max_grant_days > 0 {
                let _ = writeln!(s, "  max_grant_days: {}", checks.max_grant_days);
            }
            if !checks.off.is_empty() {
                s.push_str("  disable:\n");
                for (rule, names) in &checks.off {
                    let _ = writeln!(s, "    - rule: {rule}");
                    let _ = writeln!(
                        s,
                        "      reason: {}",
                        scalar(&format!(
                            "imported by orgctl import on {}: grants {} break it; review them",
                            self.options.today,
                            names.join(", ")
                        ))
                    );
                }
            }
        }
        s
    }
}

/// The checks block the imported grants need.
#[derive(Default)]
struct Checks {
    /// 0: the default.
    max_grant_days: u32,
    /// Rule → the grants that break it.
    off: BTreeMap<&'static str, Vec<String>>,
}

/// A role as the planner compares it (documents canonical).
#[derive(Debug, Clone, PartialEq, Eq)]
struct RoleKey {
    name: String,
    trust_policy: String,
    description: String,
    max_session_secs: i32,
    managed: BTreeSet<String>,
    inline: BTreeMap<String, String>,
    boundary: Option<String>,
    tags: Tags,
}

impl RoleKey {
    fn of(r: &LiveAccessRole) -> RoleKey {
        let canon = |s: &str| canonical_json_str(s).unwrap_or_else(|| s.to_owned());
        RoleKey {
            name: r.role_name.clone(),
            trust_policy: canon(&r.trust_policy),
            description: r.description.clone(),
            max_session_secs: r.max_session_secs,
            managed: r.managed_policies.clone(),
            inline: r
                .inline_policies
                .iter()
                .map(|(k, v)| (k.clone(), canon(v)))
                .collect(),
            boundary: r.permissions_boundary.clone(),
            tags: r.tags.clone(),
        }
    }

    fn read_role(plan_role: &str) -> RoleKey {
        RoleKey {
            name: READ_ROLE_NAME.to_owned(),
            trust_policy: trust_policy(plan_role, None, false, None),
            description: READ_ROLE_DESCRIPTION.to_owned(),
            max_session_secs: READ_ROLE_SESSION_SECS,
            managed: BTreeSet::new(),
            inline: BTreeMap::from([(
                READ_ROLE_POLICY_NAME.to_owned(),
                READ_ROLE_POLICY.to_owned(),
            )]),
            boundary: None,
            tags: Tags::from([
                (
                    MANAGED_BY_KEY.to_owned(),
                    orgctl_model::MANAGED_BY_VALUE.to_owned(),
                ),
                (ROLE_TAG_KEY.to_owned(), READ_ROLE_TAG_VALUE.to_owned()),
            ]),
        }
    }

    fn differences(&self, want: &RoleKey) -> Vec<&'static str> {
        let mut d = Vec::new();
        if self.name != want.name {
            d.push("name");
        }
        if self.trust_policy != want.trust_policy {
            d.push("trust policy");
        }
        if self.description != want.description {
            d.push("description");
        }
        if self.max_session_secs != want.max_session_secs {
            d.push("session");
        }
        if self.managed != want.managed {
            d.push("managed policies");
        }
        if self.inline != want.inline {
            d.push("inline policies");
        }
        if self.boundary != want.boundary {
            d.push("boundary");
        }
        if self.tags != want.tags {
            d.push("tags");
        }
        d
    }
}

/// The role a grant as written makes.
fn desired_role(g: &GrantOut) -> RoleKey {
    let access_ends = g.expires.as_deref().and_then(access_ends_after);
    let spec = GrantSpec {
        name: g.name.clone(),
        partner: g.partner.clone(),
        owner: g.owner.clone(),
        ticket: g.ticket.clone(),
        description: String::new(),
        principal: if is_account_id(&g.principal) {
            format!("arn:aws:iam::{}:root", g.principal)
        } else {
            g.principal.clone()
        },
        principal_account: g.principal_account.clone(),
        external_id: g.external_id.clone(),
        mfa: g.mfa,
        max_session_secs: g.max_session_secs,
        managed_policies: g.managed.clone(),
        inline_policies: g
            .inline
            .iter()
            .map(|(k, (v, _))| (k.clone(), canonical_json(v)))
            .collect(),
        permissions_boundary: g.boundary.clone(),
        targets: BTreeSet::new(),
        exclude_accounts: BTreeSet::new(),
        exclude_ids: BTreeSet::new(),
        role_name: g.role_name.clone(),
        expires: g.expires.clone(),
        access_ends: access_ends.clone(),
        source: SourceLoc {
            file: String::new(),
            line: 0,
            column: 0,
        },
    };
    RoleKey {
        name: spec.role_name.clone(),
        trust_policy: spec.trust_policy(),
        description: spec.role_description(),
        max_session_secs: spec.max_session_secs,
        managed: spec.managed_policies.clone(),
        inline: spec.inline_policies.clone(),
        boundary: spec.permissions_boundary.clone(),
        tags: spec.role_tags(),
    }
}

/// A trust policy orgctl writes, taken apart.
struct Trust {
    principal: String,
    external_id: Option<String>,
    mfa: bool,
    ends: Option<String>,
}

/// Parses a trust policy of the form orgctl writes (one statement allowing one principal to
/// assume the role, with the external id, MFA and end-of-access conditions).
fn parse_trust(doc: &str) -> Result<Trust, String> {
    let bad = || "its trust policy is not one a grant makes".to_owned();
    let v: Value = serde_json::from_str(doc).map_err(|_| bad())?;
    let statements = match v.get("Statement") {
        Some(Value::Array(list)) if list.len() == 1 => &list[0],
        Some(s @ Value::Object(_)) => s,
        _ => return Err(bad()),
    };
    if statements.get("Effect").and_then(Value::as_str) != Some("Allow") {
        return Err(bad());
    }
    let principal = statements
        .get("Principal")
        .and_then(|p| p.get("AWS"))
        .and_then(Value::as_str)
        .ok_or_else(bad)?
        .to_owned();
    let cond = statements.get("Condition");
    let get = |op: &str, key: &str| {
        cond.and_then(|c| c.get(op))
            .and_then(|o| o.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(Trust {
        principal,
        external_id: get("StringEquals", "sts:ExternalId"),
        mfa: get("Bool", "aws:MultiFactorAuthPresent").as_deref() == Some("true"),
        ends: get("DateLessThan", "aws:CurrentTime"),
    })
}

/// The last day of access before an end-of-access instant (`2027-07-01T00:00:00Z` →
/// `2027-06-30`; an instant later in a day ends access at the start of that day).
fn expires_before(ends: &str) -> Result<String, String> {
    let day = ends
        .get(..10)
        .and_then(crate::validate::parse_date)
        .ok_or_else(|| {
            format!(
                "its end of access `{}` is not a date",
                escape_invisible(ends)
            )
        })?;
    day.yesterday()
        .map(|d| d.to_string())
        .map_err(|_| "its end of access is out of range".to_owned())
}

/// The end-of-access instant of a last day.
fn access_ends_after(expires: &str) -> Option<String> {
    let day = crate::validate::parse_date(expires)?.tomorrow().ok()?;
    Some(format!("{day}T00:00:00Z"))
}

/// Partner, owner and ticket from a grant role's description
/// (`orgctl grant NAME for PARTNER, owner OWNER, ticket TICKET[, expires DATE]`).
fn parse_description(
    name: &str,
    description: &str,
    expires: Option<&str>,
) -> Option<(String, String, String)> {
    let rest = description.strip_prefix(&format!("orgctl grant {name} for "))?;
    let rest = match expires {
        Some(e) => rest.strip_suffix(&format!(", expires {e}"))?,
        None => rest,
    };
    let (rest, ticket) = rest.rsplit_once(", ticket ")?;
    let (partner, owner) = rest.rsplit_once(", owner ")?;
    let ok = |s: &str| {
        let n = s.chars().count();
        (1..=200).contains(&n) && first_invisible(&s.replace(['\n', '\t'], " ")).is_none()
    };
    (ok(partner) && ok(owner) && ok(ticket))
        .then(|| (partner.to_owned(), owner.to_owned(), ticket.to_owned()))
}

/// Why a live customer policy cannot be written in the YAML, if it cannot.
fn policy_problem(p: &LivePolicy) -> Option<String> {
    let n = p.name.chars().count();
    if n == 0 || n > 128 {
        return Some(format!("its name has {n} characters"));
    }
    if first_invisible(&p.name).is_some() {
        return Some("its name has a character that does not show".to_owned());
    }
    if p.name == FULL_AWS_ACCESS {
        return Some(format!("{FULL_AWS_ACCESS} is AWS's name"));
    }
    if first_invisible(&p.description.replace(['\n', '\t'], " ")).is_some()
        || p.description.chars().count() > 512
    {
        return Some("its description has a character that does not show".to_owned());
    }
    let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(&p.content) else {
        return Some("its document is not a JSON object".to_owned());
    };
    if let Some(problem) = grammar_problems(&doc, p.policy_type).into_iter().next() {
        return Some(format!("its document: {problem}"));
    }
    if canonical_json(&Value::Object(doc)).chars().count() > p.policy_type.max_document_chars() {
        return Some("its document is longer than AWS allows".to_owned());
    }
    None
}

fn is_full_aws_access(p: &LivePolicy) -> bool {
    p.aws_managed && p.name == FULL_AWS_ACCESS && p.policy_type == PolicyType::ServiceControlPolicy
}

fn policy_address(p: &LivePolicy) -> String {
    format!("policy {}/{}", p.policy_type.short(), p.name)
}

/// `organization` → "the root"; `ou /A` → "OU /A"; `account a` → "account a".
fn address_words(address: &str) -> String {
    if address == "organization" {
        "the root".to_owned()
    } else if let Some(path) = address.strip_prefix("ou ") {
        format!("OU {path}")
    } else {
        address.to_owned()
    }
}

fn status_words(s: AccountStatus) -> &'static str {
    match s {
        AccountStatus::Active => "ACTIVE",
        AccountStatus::PendingClosure => "PENDING_CLOSURE",
        AccountStatus::Suspended => "SUSPENDED",
    }
}

/// Whether `c` does not show (the loader refuses names with it).
fn is_hidden(c: char) -> bool {
    orgctl_model::text::is_invisible(c)
}

/// Whether an OU name can be a path segment.
fn ou_name_ok(name: &str) -> bool {
    let n = name.chars().count();
    (1..=128).contains(&n) && !name.contains('/') && first_invisible(name).is_none()
}

/// Whether an account name is one the format accepts (uniqueness aside).
fn account_name_ok(name: &str) -> bool {
    let n = name.chars().count();
    (1..=50).contains(&n)
        && name.chars().all(|c| (' '..='~').contains(&c))
        && name != "root"
        && !name.starts_with('/')
        && !is_account_id(name)
}

/// Whether a tag key can be written in the YAML.
fn writable_key(k: &str) -> bool {
    let n = k.chars().count();
    (1..=128).contains(&n)
        && first_invisible(k).is_none()
        && !k.starts_with(BOOKKEEPING_PREFIX)
        && k != MANAGED_BY_KEY
        && !k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
}

/// A managed policy ARN as written: AWS's by name, others by ARN.
fn policy_written(arn: &str) -> String {
    match arn.strip_prefix("arn:aws:iam::aws:policy/") {
        Some(name) if managed_policy_arn(name).as_deref() == Ok(arn) => name.to_owned(),
        _ => arn.to_owned(),
    }
}

/// A session length in seconds as written (`1h`, `90m`, `2h30m`).
fn session(secs: i32) -> String {
    let (h, m) = (secs / 3600, secs % 3600 / 60);
    match (h, m) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m}m"),
    }
}

/// A document as a pretty JSON file.
fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    s.push('\n');
    s
}

/// A comment's text on one line, with nothing that does not show.
fn comment_text(s: &str) -> String {
    escape_invisible(&s.replace(['\n', '\r'], " ")).into_owned()
}

/// A YAML scalar: plain when it reads back as the same string, else double-quoted.
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/')
        && !s.ends_with(' ')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " _./@+=-()".contains(c))
        && !["true", "false", "yes", "no", "on", "off", "null", "y", "n"]
            .contains(&s.to_ascii_lowercase().as_str());
    if plain { s.to_owned() } else { quoted(s) }
}

/// A double-quoted YAML scalar (JSON's escapes are YAML's).
fn quoted(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""));
    // Characters YAML does not allow raw in a stream: escape them as \u.
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        ) || is_hidden(c) && c != ' '
        {
            let code = u32::from(c);
            if code > 0xFFFF {
                let _ = write!(out, "\\U{code:08X}");
            } else {
                let _ = write!(out, "\\u{code:04X}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An account id quoted, anything else as a scalar.
fn quoted_if_id(s: &str) -> String {
    if is_account_id(s) {
        quoted(s)
    } else {
        scalar(s)
    }
}

/// `key:` and a block list (or `key: []`).
fn list(s: &mut String, indent: &str, key: &str, items: &[&str]) {
    if items.is_empty() {
        let _ = writeln!(s, "{indent}{key}: []");
        return;
    }
    let _ = writeln!(s, "{indent}{key}:");
    for item in items {
        let _ = writeln!(s, "{indent}  - {item}");
    }
}

/// `tags:` of an item (nothing when there are none).
fn tags(s: &mut String, tags: &Tags) {
    if tags.is_empty() {
        return;
    }
    s.push_str("    tags:\n");
    for (k, v) in tags {
        let _ = writeln!(s, "      {}: {}", scalar(k), scalar(v));
    }
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
