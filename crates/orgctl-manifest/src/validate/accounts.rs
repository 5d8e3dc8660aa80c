//! The `accounts` lists: names, emails, OUs, ids, tags and lifecycles.

use std::collections::{BTreeMap, HashMap, HashSet};

use orgctl_model::{AccountSpec, Lifecycle, ROOT_PATH, SourceLoc};

use super::checker::Checker;
use super::organization::OrgSettings;
use super::ous::Ous;
use super::rules::{email_problem, is_account_id};
use crate::load::Item;
use crate::raw::RawLifecycle;
use crate::text::invisible_problem;

/// The checked accounts.
pub(super) struct Accounts<'p> {
    /// The accounts by name (each name's first declaration).
    pub(super) specs: BTreeMap<String, AccountSpec>,
    /// What the later checks need of each, by name.
    pub(super) info: HashMap<&'p str, AccountInfo>,
}

/// A checked account, as far as the later checks need it.
pub(super) struct AccountInfo {
    /// Its position in [`crate::load::Parsed::accounts`].
    pub(super) item: usize,
    /// Its valid id, if given.
    pub(super) id: Option<String>,
    /// Whether FullAWSAccess stays attached.
    pub(super) full_aws_access: bool,
}

/// Checks every account against the organization settings and the OUs.
pub(super) fn check<'p>(
    checker: &mut Checker<'p>,
    org: Option<&OrgSettings>,
    ous: &Ous<'_>,
    ignored: &HashSet<&str>,
) -> Accounts<'p> {
    let parsed = checker.parsed;
    let mut accounts: BTreeMap<String, AccountSpec> = BTreeMap::new();
    let mut account_info: HashMap<&str, AccountInfo> =
        HashMap::with_capacity(parsed.accounts.len());
    let mut names: HashMap<&str, SourceLoc> = HashMap::with_capacity(parsed.accounts.len());
    let mut emails: HashMap<String, SourceLoc> = HashMap::with_capacity(parsed.accounts.len());
    let mut ids: HashMap<&str, SourceLoc> = HashMap::with_capacity(parsed.accounts.len());
    for (item_no, Item { file, index, raw }) in parsed.accounts.iter().enumerate() {
        let (file, index) = (*file, *index);
        let account = &raw.value;
        let field = |f: &str| format!("accounts[{index}].{f}");
        let name = account.name.value.as_str();
        let name_at = checker.at(file, &account.name);
        let n = name.chars().count();
        if n == 0 || n > 50 {
            checker.error(
                name_at.clone(),
                field("name"),
                format!("account name has {n} characters; AWS allows 1 to 50"),
            );
        } else if let Some(problem) = invisible_problem("account name", name) {
            checker.error(name_at.clone(), field("name"), problem);
        } else if !name.chars().all(|ch| (' '..='~').contains(&ch)) {
            checker.error(
                name_at.clone(),
                field("name"),
                format!("account name `{name}`: AWS allows only printable ASCII characters"),
            );
        }
        if name == "root" {
            checker.error(
                name_at.clone(),
                field("name"),
                "an account cannot be named `root`: policy targets use `root` for the \
                 organization root, so the name would be ambiguous",
            );
        } else if name.starts_with('/') {
            checker.error(
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
            checker.error_related(
                name_at.clone(),
                field("name"),
                format!("account name `{name}` is used twice"),
                first.clone(),
            );
        } else {
            names.insert(name, name_at.clone());
        }

        let email = account.email.value.as_str();
        let email_at = checker.at(file, &account.email);
        if let Some(problem) = email_problem(email) {
            checker.error(email_at.clone(), field("email"), problem);
        }
        let folded = email.to_lowercase();
        if let Some(first) = emails.get(&folded) {
            checker.error_related(
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

        let ou = account.ou.value.as_str();
        if ou != ROOT_PATH && !ous.specs.contains_key(ou) && !parsed.broken.ous {
            let hint = if ou.starts_with('/') {
                "declare it in `ous`"
            } else {
                "an account's `ou` is an OU path starting with `/`, or `/` for the root"
            };
            checker.error(
                checker.at(file, &account.ou),
                field("ou"),
                format!("OU `{ou}` is not declared; {hint}"),
            );
        }

        let mut id = None;
        if let Some(i) = &account.id {
            let id_at = checker.at(file, i);
            if !is_account_id(&i.value) {
                checker.error(
                    id_at,
                    field("id"),
                    format!(
                        "`{}` is not an account id: it must be 12 digits, in quotes",
                        i.value
                    ),
                );
            } else if let Some(first) = ids.get(i.value.as_str()) {
                checker.error_related(
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
        let tags = checker.tags(file, &account.tags, &field("tags"), ignored, false);
        let lifecycle = match account.lifecycle.as_ref().map(|l| l.value) {
            None | Some(RawLifecycle::Active) => Lifecycle::Active,
            Some(RawLifecycle::Closed) => Lifecycle::Closed,
        };
        if let (Some(l), Some(o), Some(i)) = (&account.lifecycle, org, &id)
            && l.value == RawLifecycle::Closed
            && *i == o.management_account_id
        {
            checker.error(
                checker.at(file, l),
                field("lifecycle"),
                format!(
                    "account `{name}` is the management account ({i}), which cannot be \
                     closed"
                ),
            );
        }
        let full_aws_access = account.full_aws_access.as_ref().is_none_or(|f| f.value);
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
                    source: checker.at(file, raw),
                },
            );
        }
    }
    Accounts {
        specs: accounts,
        info: account_info,
    }
}
