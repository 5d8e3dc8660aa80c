//! Semantic checks on the merged files and the mapping to [`DesiredState`].
//!
//! Every check runs and reports, so one run lists every problem: uniqueness (names, emails,
//! ids, paths; both places named), references (OUs, accounts, targets, protected accounts),
//! AWS's limits (lengths, tags, document sizes, policies per target) and orgctl's own safety
//! rules (protected and management accounts are never closed, no target is left without an
//! SCP). Lookups go through hash maps, so the cost grows linearly with the organization.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use orgctl_model::{
    AccountSpec, DesiredState, FULL_AWS_ACCESS, Lifecycle, MANAGED_BY_KEY, OrganizationSpec,
    OuSpec, PolicySpec, PolicyType, ROOT_PATH, SourceLoc, Tags, TargetRef, canonical_json,
    parent_path,
};
use serde_json::Value;

use crate::diag::Diagnostic;
use crate::document::{grammar_problems, parse_json, read_document_file};
use crate::load::{Item, Parsed};
use crate::node::Located;
use crate::raw::{RawLifecycle, RawOrganization, RawTags};
use crate::text::invisible_problem;

/// The default of `policies_per_target_limit`: AWS's default SCP quota.
pub const DEFAULT_POLICIES_PER_TARGET: u32 = 5;
/// The smallest allowed `policies_per_target_limit` (replacing a policy attaches the new one
/// before detaching the old).
pub const MIN_POLICIES_PER_TARGET: u32 = 2;
/// The largest allowed `policies_per_target_limit`.
pub const MAX_POLICIES_PER_TARGET: u32 = 1000;
/// AWS's limit on the depth of the OU tree below the root.
pub const MAX_OU_DEPTH: usize = 5;
/// AWS's limit on tags per resource.
pub const MAX_TAGS: usize = 50;

/// Whether `s` is a 12-digit account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` looks like an OU id (`ou-` + 4–32 + `-` + 8–32 lower-case letters or digits).
pub fn is_ou_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("ou-") else {
        return false;
    };
    let Some((a, b)) = rest.split_once('-') else {
        return false;
    };
    let ok = |part: &str, min: usize| {
        (min..=32).contains(&part.len())
            && part
                .bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    };
    ok(a, 4) && ok(b, 8)
}

/// Why `email` is not an address AWS accepts for an account's root user, if it is not.
pub fn email_problem(email: &str) -> Option<String> {
    let n = email.chars().count();
    if !(6..=64).contains(&n) {
        return Some(format!("`{email}` has {n} characters; AWS allows 6 to 64"));
    }
    if let Some(problem) = invisible_problem("email", email) {
        return Some(problem);
    }
    if email.chars().any(char::is_whitespace) {
        return Some(format!("`{email}` contains whitespace"));
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Some(format!("`{email}` must contain exactly one `@`"));
    };
    if local.is_empty() {
        return Some(format!("`{email}` has nothing before the `@`"));
    }
    if !domain.contains('.') || domain.split('.').any(str::is_empty) {
        return Some(format!(
            "`{email}` needs a domain with a dot and no empty part after the `@`, such as \
             `example.com`"
        ));
    }
    None
}

/// Why `path` is not a valid OU path, if it is not; otherwise its segments.
pub fn ou_path_segments(path: &str) -> Result<Vec<&str>, String> {
    if path == ROOT_PATH {
        return Err(
            "`/` is the root, which always exists; declare only the OUs below it".to_owned(),
        );
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!(
            "`{path}` is not an OU path: it must start with `/`, such as `/Workloads/Staging`"
        ));
    };
    if rest.ends_with('/') {
        return Err(format!("OU path `{path}` must not end with `/`"));
    }
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(format!(
            "OU path `{path}` has an empty segment (`//`); segments are OU names"
        ));
    }
    for s in &segments {
        if let Some(problem) = invisible_problem("OU name", s) {
            return Err(problem);
        }
        let n = s.chars().count();
        if n > 128 {
            return Err(format!(
                "OU name `{s}` has {n} characters; AWS allows 1 to 128"
            ));
        }
    }
    if segments.len() > MAX_OU_DEPTH {
        return Err(format!(
            "OU `{path}` is {} levels deep; AWS allows at most {MAX_OU_DEPTH} levels of OUs \
             below the root",
            segments.len()
        ));
    }
    Ok(segments)
}

fn type_words(t: PolicyType) -> &'static str {
    match t {
        PolicyType::ServiceControlPolicy => "service control policies",
        PolicyType::TagPolicy => "tag policies",
    }
}

fn type_singular(t: PolicyType) -> &'static str {
    match t {
        PolicyType::ServiceControlPolicy => "service control policy",
        PolicyType::TagPolicy => "tag policy",
    }
}

fn yaml_type(t: PolicyType) -> &'static str {
    match t {
        PolicyType::ServiceControlPolicy => "service_control_policy",
        PolicyType::TagPolicy => "tag_policy",
    }
}

/// A checked OU, as far as the later checks need it.
struct OuInfo {
    full_aws_access: bool,
    at: SourceLoc,
}

/// A checked account, as far as the later checks need it.
struct AccountInfo {
    item: usize,
    id: Option<String>,
    full_aws_access: bool,
}

/// One target entry of a policy, for the per-target count.
struct Attachment {
    at: SourceLoc,
    field: String,
}

/// The checker's working state.
struct Checker<'p> {
    p: &'p Parsed,
    diags: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, at: SourceLoc, field: impl Into<String>, message: impl Into<String>) {
        self.diags.push(Diagnostic::error(&at, field, message));
    }

    fn error_related(
        &mut self,
        at: SourceLoc,
        field: impl Into<String>,
        message: impl Into<String>,
        related: SourceLoc,
    ) {
        self.diags
            .push(Diagnostic::error(&at, field, message).with_related(related));
    }

    fn warning(&mut self, at: SourceLoc, field: impl Into<String>, message: impl Into<String>) {
        self.diags.push(Diagnostic::warning(&at, field, message));
    }

    fn at<T>(&self, file: usize, v: &Located<T>) -> SourceLoc {
        self.p.at(file, v)
    }

    /// Checks tags and converts them. `extra` counts tags orgctl adds itself.
    fn tags(
        &mut self,
        file: usize,
        tags: &RawTags,
        field: &str,
        ignored: &HashSet<&str>,
        extra: usize,
    ) -> Tags {
        let max = MAX_TAGS - extra;
        if let Some((k, _)) = tags.0.get(max) {
            let why = if extra > 0 {
                format!(
                    "{} tags, plus the `{MANAGED_BY_KEY}` tag orgctl adds, is more than \
                     AWS's {MAX_TAGS} per resource",
                    tags.0.len()
                )
            } else {
                format!(
                    "{} tags; AWS allows at most {MAX_TAGS} per resource",
                    tags.0.len()
                )
            };
            self.error(self.at(file, k), field, why);
        }
        let mut out = Tags::new();
        for (k, v) in &tags.0 {
            let key = k.value.as_str();
            let field = format!("{field}.{key}");
            let n = key.chars().count();
            if n == 0 || n > 128 {
                self.error(
                    self.at(file, k),
                    &field,
                    format!("tag key has {n} characters; AWS allows 1 to 128"),
                );
            }
            if let Some(problem) = invisible_problem("tag key", key) {
                self.error(self.at(file, k), &field, problem);
            }
            if let Some(problem) = invisible_problem("tag value", &v.value) {
                self.error(self.at(file, v), &field, problem);
            }
            if key
                .get(..4)
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:"))
            {
                self.error(
                    self.at(file, k),
                    &field,
                    format!("tag key `{key}`: keys starting with `aws:` are reserved for AWS"),
                );
            }
            if key == MANAGED_BY_KEY {
                self.error(
                    self.at(file, k),
                    &field,
                    format!(
                        "`{MANAGED_BY_KEY}` is reserved: orgctl sets it on the OUs and policies \
                         it manages; remove it here"
                    ),
                );
            } else if ignored.contains(key) {
                self.error(
                    self.at(file, k),
                    &field,
                    format!(
                        "`{key}` is listed in organization.ignore_tag_keys, so orgctl would \
                         never set it; remove it here or there"
                    ),
                );
            }
            let vn = v.value.chars().count();
            if vn > 256 {
                self.error(
                    self.at(file, v),
                    &field,
                    format!("tag value has {vn} characters; AWS allows at most 256"),
                );
            }
            out.insert(k.value.clone(), v.value.clone());
        }
        out
    }
}

/// The organization block's settings, checked.
struct OrgSettings {
    management_account_id: String,
    enabled: BTreeSet<PolicyType>,
    limit: u32,
    ignore_tag_keys: BTreeSet<String>,
    source: SourceLoc,
}

fn check_organization(c: &mut Checker<'_>) -> Option<OrgSettings> {
    let p = c.p;
    let Some(first) = p.organizations.first() else {
        if p.broken.organization {
            return None;
        }
        let at = p.loc(0, 1, 1);
        c.error(
            at,
            "organization",
            "no `organization` block in any file: exactly one file must have one, with at least \
             `management_account_id`",
        );
        return None;
    };
    let first_at = c.at(first.file, &first.raw);
    for other in &p.organizations[1..] {
        c.error_related(
            c.at(other.file, &other.raw),
            "organization",
            "a second `organization` block: exactly one file may have one",
            first_at.clone(),
        );
    }
    let file = first.file;
    let org: &RawOrganization = &first.raw.value;
    let id = &org.management_account_id;
    if !is_account_id(&id.value) {
        c.error(
            c.at(file, id),
            "organization.management_account_id",
            format!(
                "`{}` is not an account id: it must be 12 digits, in quotes",
                id.value
            ),
        );
    }
    let mut enabled = BTreeSet::new();
    for t in &org.enabled_policy_types {
        if !enabled.insert(t.value.to_model()) {
            c.warning(
                c.at(file, t),
                "organization.enabled_policy_types",
                format!("`{}` is listed twice", t.value.as_yaml()),
            );
        }
    }
    let limit = match &org.policies_per_target_limit {
        None => DEFAULT_POLICIES_PER_TARGET,
        Some(l) => {
            if !(MIN_POLICIES_PER_TARGET..=MAX_POLICIES_PER_TARGET).contains(&l.value) {
                c.error(
                    c.at(file, l),
                    "organization.policies_per_target_limit",
                    format!(
                        "{} is out of range: allowed are {MIN_POLICIES_PER_TARGET} to \
                         {MAX_POLICIES_PER_TARGET} (AWS's default quota is 5; replacing a \
                         policy needs room for 2)",
                        l.value
                    ),
                );
            }
            l.value
        }
    };
    let mut ignore_tag_keys = BTreeSet::new();
    for k in &org.ignore_tag_keys {
        let n = k.value.chars().count();
        if n == 0 || n > 128 {
            c.error(
                c.at(file, k),
                "organization.ignore_tag_keys",
                format!("tag key has {n} characters; AWS allows 1 to 128"),
            );
        }
        if k.value == MANAGED_BY_KEY {
            c.error(
                c.at(file, k),
                "organization.ignore_tag_keys",
                format!("`{MANAGED_BY_KEY}` is orgctl's own tag and cannot be ignored"),
            );
        }
        if let Some(problem) = invisible_problem("tag key", &k.value) {
            c.error(c.at(file, k), "organization.ignore_tag_keys", problem);
        }
        if !ignore_tag_keys.insert(k.value.clone()) {
            c.warning(
                c.at(file, k),
                "organization.ignore_tag_keys",
                format!("`{}` is listed twice", k.value),
            );
        }
    }
    Some(OrgSettings {
        management_account_id: id.value.clone(),
        enabled,
        limit,
        ignore_tag_keys,
        source: first_at,
    })
}

/// Checks everything and builds the desired state when there is no error.
pub(crate) fn validate(parsed: Parsed) -> (Option<DesiredState>, Vec<Diagnostic>) {
    let mut c = Checker {
        p: &parsed,
        diags: Vec::new(),
    };
    let p = &parsed;
    let org = check_organization(&mut c);
    let ignored: HashSet<&str> = org
        .as_ref()
        .map(|o| o.ignore_tag_keys.iter().map(String::as_str).collect())
        .unwrap_or_default();

    // OUs.
    let mut ous: BTreeMap<String, OuSpec> = BTreeMap::new();
    let mut ou_info: HashMap<&str, OuInfo> = HashMap::with_capacity(p.ous.len());
    let mut ou_ids: HashMap<&str, SourceLoc> = HashMap::new();
    for Item { file, index, raw } in &p.ous {
        let (file, index) = (*file, *index);
        let ou = &raw.value;
        let field = |f: &str| format!("ous[{index}].{f}");
        let path_at = c.at(file, &ou.path);
        let path = ou.path.value.as_str();
        let segments = match ou_path_segments(path) {
            Ok(s) => Some(s),
            Err(msg) => {
                c.error(path_at.clone(), field("path"), msg);
                None
            }
        };
        if let Some(id) = &ou.id {
            let id_at = c.at(file, id);
            if !is_ou_id(&id.value) {
                c.error(
                    id_at,
                    field("id"),
                    format!(
                        "`{}` is not an OU id: expected `ou-` followed by 4–32 and 8–32 \
                         lower-case letters or digits, such as `ou-ab12-cd34ef56`",
                        id.value
                    ),
                );
            } else if let Some(first) = ou_ids.get(id.value.as_str()) {
                c.error_related(
                    id_at,
                    field("id"),
                    format!("OU id `{}` is used twice", id.value),
                    first.clone(),
                );
            } else {
                ou_ids.insert(&id.value, id_at);
            }
        }
        let tags = c.tags(file, &ou.tags, &field("tags"), &ignored, 1);
        let full_aws_access = ou.full_aws_access.as_ref().is_none_or(|f| f.value);
        let Some(segments) = segments else { continue };
        if let Some(first) = ou_info.get(path) {
            let first_at = first.at.clone();
            c.error_related(
                path_at,
                field("path"),
                format!("OU `{path}` is declared twice"),
                first_at,
            );
            continue;
        }
        let source = c.at(file, raw);
        ou_info.insert(
            path,
            OuInfo {
                full_aws_access,
                at: path_at,
            },
        );
        ous.insert(
            path.to_owned(),
            OuSpec {
                path: path.to_owned(),
                name: segments.last().map(|s| (*s).to_owned()).unwrap_or_default(),
                id: ou.id.as_ref().map(|i| i.value.clone()),
                tags,
                full_aws_access,
                source,
            },
        );
    }
    // Every parent is declared (checked once all OUs are known).
    for Item { file, index, raw } in &p.ous {
        let path = raw.value.path.value.as_str();
        if !ous.contains_key(path) {
            continue;
        }
        let parent = parent_path(path);
        if parent != ROOT_PATH && !ous.contains_key(parent) && !p.broken.ous {
            c.error(
                c.at(*file, &raw.value.path),
                format!("ous[{index}].path"),
                format!(
                    "the parent OU `{parent}` is not declared: every level of the tree is \
                     listed in `ous`"
                ),
            );
        }
    }

    // Accounts.
    let mut accounts: BTreeMap<String, AccountSpec> = BTreeMap::new();
    let mut account_info: HashMap<&str, AccountInfo> = HashMap::with_capacity(p.accounts.len());
    let mut names: HashMap<&str, SourceLoc> = HashMap::with_capacity(p.accounts.len());
    let mut emails: HashMap<String, SourceLoc> = HashMap::with_capacity(p.accounts.len());
    let mut ids: HashMap<&str, SourceLoc> = HashMap::with_capacity(p.accounts.len());
    for (item_no, Item { file, index, raw }) in p.accounts.iter().enumerate() {
        let (file, index) = (*file, *index);
        let a = &raw.value;
        let field = |f: &str| format!("accounts[{index}].{f}");
        let name = a.name.value.as_str();
        let name_at = c.at(file, &a.name);
        let n = name.chars().count();
        if n == 0 || n > 50 {
            c.error(
                name_at.clone(),
                field("name"),
                format!("account name has {n} characters; AWS allows 1 to 50"),
            );
        } else if let Some(problem) = invisible_problem("account name", name) {
            c.error(name_at.clone(), field("name"), problem);
        } else if !name.chars().all(|ch| (' '..='~').contains(&ch)) {
            c.error(
                name_at.clone(),
                field("name"),
                format!("account name `{name}`: AWS allows only printable ASCII characters"),
            );
        }
        if name == "root" {
            c.error(
                name_at.clone(),
                field("name"),
                "an account cannot be named `root`: policy targets use `root` for the \
                 organization root, so the name would be ambiguous",
            );
        } else if name.starts_with('/') {
            c.error(
                name_at.clone(),
                field("name"),
                format!(
                    "account name `{name}` starts with `/`: policy targets read that as an OU \
                     path"
                ),
            );
        }
        let duplicate_name = names.get(name).cloned();
        if let Some(first) = &duplicate_name {
            c.error_related(
                name_at.clone(),
                field("name"),
                format!("account name `{name}` is used twice"),
                first.clone(),
            );
        } else {
            names.insert(name, name_at.clone());
        }

        let email = a.email.value.as_str();
        let email_at = c.at(file, &a.email);
        if let Some(problem) = email_problem(email) {
            c.error(email_at.clone(), field("email"), problem);
        }
        let folded = email.to_lowercase();
        if let Some(first) = emails.get(&folded) {
            c.error_related(
                email_at.clone(),
                field("email"),
                format!(
                    "root email `{email}` is used twice (emails compare case-insensitively); \
                     every AWS account needs its own"
                ),
                first.clone(),
            );
        } else {
            emails.insert(folded, email_at);
        }

        let ou = a.ou.value.as_str();
        if ou != ROOT_PATH && !ous.contains_key(ou) && !p.broken.ous {
            let hint = if ou.starts_with('/') {
                "declare it in `ous`"
            } else {
                "an account's `ou` is an OU path starting with `/`, or `/` for the root"
            };
            c.error(
                c.at(file, &a.ou),
                field("ou"),
                format!("OU `{ou}` is not declared; {hint}"),
            );
        }

        let mut id = None;
        if let Some(i) = &a.id {
            let id_at = c.at(file, i);
            if !is_account_id(&i.value) {
                c.error(
                    id_at,
                    field("id"),
                    format!(
                        "`{}` is not an account id: it must be 12 digits, in quotes",
                        i.value
                    ),
                );
            } else if let Some(first) = ids.get(i.value.as_str()) {
                c.error_related(
                    id_at,
                    field("id"),
                    format!("account id `{}` is used twice", i.value),
                    first.clone(),
                );
            } else {
                ids.insert(&i.value, id_at);
                id = Some(i.value.clone());
            }
        }
        let tags = c.tags(file, &a.tags, &field("tags"), &ignored, 0);
        let lifecycle = match a.lifecycle.as_ref().map(|l| l.value) {
            None | Some(RawLifecycle::Active) => Lifecycle::Active,
            Some(RawLifecycle::Closed) => Lifecycle::Closed,
        };
        if let (Some(l), Some(o), Some(i)) = (&a.lifecycle, &org, &id)
            && l.value == RawLifecycle::Closed
            && *i == o.management_account_id
        {
            c.error(
                c.at(file, l),
                field("lifecycle"),
                format!(
                    "account `{name}` is the management account ({i}), which cannot be \
                     closed"
                ),
            );
        }
        let full_aws_access = a.full_aws_access.as_ref().is_none_or(|f| f.value);
        if duplicate_name.is_none() {
            account_info.insert(
                name,
                AccountInfo {
                    item: item_no,
                    id: id.clone(),
                    full_aws_access,
                },
            );
            accounts.insert(
                name.to_owned(),
                AccountSpec {
                    name: name.to_owned(),
                    email: email.to_owned(),
                    ou: ou.to_owned(),
                    id,
                    tags,
                    lifecycle,
                    full_aws_access,
                    source: c.at(file, raw),
                },
            );
        }
    }

    // Protected accounts.
    let mut protected: BTreeSet<String> = BTreeSet::new();
    // Account name → where it is listed as protected.
    let mut protected_names: HashMap<&str, SourceLoc> = HashMap::new();
    if let Some(first) = p.organizations.first() {
        let file = first.file;
        for entry in &first.raw.value.protected_accounts {
            let at = c.at(file, entry);
            let value = entry.value.as_str();
            let field = "organization.protected_accounts";
            if is_account_id(value) {
                if !protected.insert(value.to_owned()) {
                    c.warning(at, field, format!("`{value}` is listed twice"));
                }
                continue;
            }
            match account_info.get(value) {
                None if p.broken.accounts => {}
                None => c.error(
                    at,
                    field,
                    format!(
                        "no account named `{value}` in `accounts`; protected_accounts takes \
                         account names or 12-digit account ids"
                    ),
                ),
                Some(info) => {
                    protected_names.insert(value, at.clone());
                    match &info.id {
                        Some(id) => {
                            if !protected.insert(id.clone()) {
                                c.warning(at, field, format!("`{value}` ({id}) is listed twice"));
                            }
                        }
                        None => c.error(
                            at,
                            field,
                            format!(
                                "protected account `{value}` needs an id: orgctl can only \
                                 protect an account it can identify; add its `id`"
                            ),
                        ),
                    }
                }
            }
        }
    }
    for Item { file, index, raw } in &p.accounts {
        let a = &raw.value;
        let Some(l) = &a.lifecycle else { continue };
        if l.value != RawLifecycle::Closed {
            continue;
        }
        let by_id = a.id.as_ref().is_some_and(|i| protected.contains(&i.value));
        let by_name = protected_names.get(a.name.value.as_str());
        if by_id || by_name.is_some() {
            let msg = format!(
                "account `{}` is protected (organization.protected_accounts) and cannot be \
                 closed",
                a.name.value
            );
            let at = c.at(*file, l);
            let field = format!("accounts[{index}].lifecycle");
            match by_name {
                Some(r) => {
                    let r = r.clone();
                    c.error_related(at, field, msg, r);
                }
                None => c.error(at, field, msg),
            }
        }
    }

    // Policies.
    let limit = org
        .as_ref()
        .map_or(DEFAULT_POLICIES_PER_TARGET, |o| o.limit);
    let mut policies: BTreeMap<String, PolicySpec> = BTreeMap::new();
    let mut policy_names: HashMap<&str, SourceLoc> = HashMap::with_capacity(p.policies.len());
    // (target, type) → the target entries attaching a policy of that type, in file order.
    let mut attachments: HashMap<(TargetRef, PolicyType), Vec<Attachment>> = HashMap::new();
    for Item { file, index, raw } in &p.policies {
        let (file, index) = (*file, *index);
        let pol = &raw.value;
        let field = |f: &str| format!("policies[{index}].{f}");
        let name = pol.name.value.as_str();
        let name_at = c.at(file, &pol.name);
        let n = name.chars().count();
        if n == 0 || n > 128 {
            c.error(
                name_at.clone(),
                field("name"),
                format!("policy name has {n} characters; AWS allows 1 to 128"),
            );
        }
        if let Some(problem) = invisible_problem("policy name", name) {
            c.error(name_at.clone(), field("name"), problem);
        }
        if name == FULL_AWS_ACCESS {
            c.error(
                name_at.clone(),
                field("name"),
                format!(
                    "`{FULL_AWS_ACCESS}` is the AWS-managed SCP; keep or drop it per target \
                     with `full_aws_access`"
                ),
            );
        }
        let duplicate = policy_names.get(name).cloned();
        if let Some(first) = &duplicate {
            c.error_related(
                name_at.clone(),
                field("name"),
                format!("policy name `{name}` is used twice (names are unique across types)"),
                first.clone(),
            );
        } else {
            policy_names.insert(name, name_at);
        }
        let policy_type = pol.policy_type.value.to_model();
        if let Some(o) = &org
            && !o.enabled.contains(&policy_type)
        {
            c.error(
                c.at(file, &pol.policy_type),
                field("type"),
                format!(
                    "policy type `{}` is not in organization.enabled_policy_types; add it \
                     there so orgctl enables it",
                    yaml_type(policy_type)
                ),
            );
        }
        let description = pol
            .description
            .as_ref()
            .map(|d| d.value.clone())
            .unwrap_or_default();
        if let Some(d) = &pol.description {
            // Line breaks and tabs are text in a description; nothing else that does not show.
            let shown: String = d.value.replace(['\n', '\t'], " ");
            if let Some(problem) = invisible_problem("the description", &shown) {
                c.error(c.at(file, d), field("description"), problem);
            }
            let dn = d.value.chars().count();
            if dn > 512 {
                c.error(
                    c.at(file, d),
                    field("description"),
                    format!("description has {dn} characters; AWS allows at most 512"),
                );
            }
        }
        let content = document(&mut c, file, index, raw, policy_type);

        let mut targets = BTreeSet::new();
        for t in &pol.targets {
            let t_at = c.at(file, t);
            let text = t.value.as_str();
            let target = if text == "root" || text == ROOT_PATH {
                Some(TargetRef::Root)
            } else if text.starts_with('/') {
                if ous.contains_key(text) {
                    Some(TargetRef::Ou(text.to_owned()))
                } else if p.broken.ous {
                    None
                } else {
                    c.error(
                        t_at.clone(),
                        field("targets"),
                        format!("target OU `{text}` is not declared in `ous`"),
                    );
                    None
                }
            } else if accounts.contains_key(text) {
                Some(TargetRef::Account(text.to_owned()))
            } else if p.broken.accounts {
                None
            } else {
                c.error(
                    t_at.clone(),
                    field("targets"),
                    format!(
                        "target `{text}` is not an account name from `accounts`; targets are \
                         `root`, an OU path starting with `/`, or an account name"
                    ),
                );
                None
            };
            let Some(target) = target else { continue };
            if !targets.insert(target.clone()) {
                c.warning(
                    t_at,
                    field("targets"),
                    format!("target `{text}` is listed twice"),
                );
                continue;
            }
            attachments
                .entry((target, policy_type))
                .or_default()
                .push(Attachment {
                    at: t_at,
                    field: field("targets"),
                });
        }
        let tags = c.tags(file, &pol.tags, &field("tags"), &ignored, 1);
        if duplicate.is_none() {
            policies.insert(
                name.to_owned(),
                PolicySpec {
                    name: name.to_owned(),
                    policy_type,
                    description,
                    content: content.unwrap_or_default(),
                    targets,
                    tags,
                    source: c.at(file, raw),
                },
            );
        }
    }

    // Policies per target, FullAWSAccess included where it stays.
    let keeps_full = |t: &TargetRef| match t {
        TargetRef::Root => true,
        TargetRef::Ou(path) => ou_info.get(path.as_str()).is_none_or(|o| o.full_aws_access),
        TargetRef::Account(name) => account_info
            .get(name.as_str())
            .is_none_or(|a| a.full_aws_access),
    };
    let mut over: Vec<(&(TargetRef, PolicyType), &Vec<Attachment>)> = attachments
        .iter()
        .filter(|((t, ty), list)| {
            let full = usize::from(*ty == PolicyType::ServiceControlPolicy && keeps_full(t));
            list.len() + full > limit as usize
        })
        .collect();
    over.sort_by(|a, b| a.0.cmp(b.0));
    for ((target, ty), list) in over {
        let full = usize::from(*ty == PolicyType::ServiceControlPolicy && keeps_full(target));
        let total = list.len() + full;
        let first_over = (limit as usize).saturating_sub(full).min(list.len() - 1);
        let Attachment { at, field } = &list[first_over];
        let counted = if full == 1 {
            format!("{} here + {FULL_AWS_ACCESS}", list.len())
        } else {
            format!("{} here", list.len())
        };
        c.error(
            at.clone(),
            field.clone(),
            format!(
                "{target} would have {total} {} attached ({counted}), more than \
                 organization.policies_per_target_limit ({limit})",
                type_words(*ty)
            ),
        );
    }

    // No target left without an SCP (unknowable when a policy could not be read).
    let has_scp = |t: TargetRef| attachments.contains_key(&(t, PolicyType::ServiceControlPolicy));
    for Item { file, index, raw } in &p.ous {
        let Some(f) = &raw.value.full_aws_access else {
            continue;
        };
        let path = raw.value.path.value.as_str();
        if !f.value
            && !p.broken.policies
            && ous.contains_key(path)
            && !has_scp(TargetRef::Ou(path.to_owned()))
        {
            c.error(
                c.at(*file, f),
                format!("ous[{index}].full_aws_access"),
                format!(
                    "OU `{path}` drops {FULL_AWS_ACCESS} but no service control policy here \
                     targets it; AWS requires at least one SCP on every OU"
                ),
            );
        }
    }
    for (item_no, Item { file, index, raw }) in p.accounts.iter().enumerate() {
        let Some(f) = &raw.value.full_aws_access else {
            continue;
        };
        let name = raw.value.name.value.as_str();
        let known = account_info.get(name).is_some_and(|a| a.item == item_no);
        if !f.value && known && !p.broken.policies && !has_scp(TargetRef::Account(name.to_owned()))
        {
            c.error(
                c.at(*file, f),
                format!("accounts[{index}].full_aws_access"),
                format!(
                    "account `{name}` drops {FULL_AWS_ACCESS} but no service control policy \
                     here targets it; AWS requires at least one SCP on every account"
                ),
            );
        }
    }

    let Checker { mut diags, .. } = c;
    let mut all = parsed.diagnostics.clone();
    all.append(&mut diags);
    all.sort();
    all.dedup();
    let failed = all.iter().any(|d| d.severity == crate::Severity::Error);
    let desired = match org {
        Some(o) if !failed => Some(DesiredState {
            organization: OrganizationSpec {
                management_account_id: o.management_account_id,
                enabled_policy_types: o.enabled,
                protected_accounts: protected,
                policies_per_target_limit: o.limit,
                ignore_tag_keys: o.ignore_tag_keys,
                source: o.source,
            },
            ous,
            accounts,
            policies,
        }),
        _ => None,
    };
    (desired, all)
}

/// Reads, parses and checks a policy's document; returns its canonical JSON.
fn document(
    c: &mut Checker<'_>,
    file: usize,
    index: usize,
    item: &Located<crate::raw::RawPolicy>,
    policy_type: PolicyType,
) -> Option<String> {
    let pol = &item.value;
    let field = |f: &str| format!("policies[{index}].{f}");
    // The document, where it is written and how problems inside it are introduced.
    let (value, at, field, what) = match (&pol.document, &pol.document_file) {
        (Some(_), Some(df)) => {
            c.error(
                c.at(file, df),
                field("document_file"),
                "give either `document` or `document_file`, not both",
            );
            return None;
        }
        (None, None) => {
            c.error(
                c.at(file, item),
                field("document"),
                format!(
                    "policy `{}` has no document: give `document` (inline) or `document_file` \
                     (a JSON file)",
                    pol.name.value
                ),
            );
            return None;
        }
        (Some(doc), None) => {
            let at = c.at(file, doc);
            let value = match &doc.value {
                Value::String(text) => match parse_json(text) {
                    Ok(v) => v,
                    Err(problem) => {
                        c.error(
                            at,
                            field("document"),
                            format!("the document string is not valid JSON: {problem}"),
                        );
                        return None;
                    }
                },
                other => other.clone(),
            };
            (value, at, field("document"), "the document".to_owned())
        }
        (None, Some(df)) => {
            let at = c.at(file, df);
            let yaml_dir = &c.p.files.get(file)?.parent;
            let text = match read_document_file(&c.p.root, yaml_dir, &df.value) {
                Ok(text) => text,
                Err(message) => {
                    c.error(at, field("document_file"), message);
                    return None;
                }
            };
            match parse_json(&text) {
                Ok(v) => (v, at, field("document_file"), format!("`{}`", df.value)),
                Err(problem) => {
                    c.error(
                        at,
                        field("document_file"),
                        format!("`{}` is not valid JSON: {problem}", df.value),
                    );
                    return None;
                }
            }
        }
    };
    let Value::Object(object) = &value else {
        c.error(
            at,
            field,
            "a policy document is a JSON object (`{ \"Version\": ..., \"Statement\": ... }` for \
             an SCP)",
        );
        return None;
    };
    for problem in grammar_problems(object, policy_type) {
        c.error(
            at.clone(),
            &field,
            format!(
                "{what} is not a valid {}: {problem}",
                type_singular(policy_type)
            ),
        );
    }
    let content = canonical_json(&value);
    let n = content.chars().count();
    let max = policy_type.max_document_chars();
    if n > max {
        c.error(
            at,
            field,
            format!(
                "the document has {n} characters minified; AWS allows at most {max} for {}",
                type_words(policy_type)
            ),
        );
    }
    Some(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_and_ou_ids() {
        assert!(is_account_id("012345678901"));
        assert!(!is_account_id("01234567890"));
        assert!(!is_account_id("01234567890a"));
        assert!(is_ou_id("ou-ab12-cd34ef56"));
        assert!(is_ou_id("ou-abcd-12345678"));
        assert!(!is_ou_id("ou-abc-12345678"));
        assert!(!is_ou_id("ou-abcd-1234567"));
        assert!(!is_ou_id("ou-ABCD-12345678"));
        assert!(!is_ou_id("r-abcd"));
    }

    #[test]
    fn emails() {
        assert_eq!(email_problem("a.b+c@example.co.uk"), None);
        for bad in [
            "a@b.c",
            "ab@example",
            "a@@example.com",
            "@example.com",
            "a b@example.com",
            "a@example..com",
        ] {
            assert!(email_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn ou_paths() {
        assert_eq!(ou_path_segments("/A/B"), Ok(vec!["A", "B"]));
        assert!(ou_path_segments("/1/2/3/4/5").is_ok());
        for bad in ["/", "A", "/A/", "/A//B", "/1/2/3/4/5/6", ""] {
            assert!(ou_path_segments(bad).is_err(), "{bad}");
        }
    }
}
