//! The `accounts` lists: names, emails, OUs, ids, tags and lifecycles.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

use orgctl_model::fast_hash::FastMap;

use orgctl_model::{AccountSpec, Lifecycle, ROOT_PATH};

use super::checker::Checker;
use super::organization::OrgSettings;
use super::ous::Ous;
use super::rules::{email_problem, is_account_id};
use crate::load::Item;
use crate::node::Located;
use crate::raw::RawLifecycle;
use crate::text::invisible_problem;

/// The checked accounts.
pub(super) struct Accounts<'p> {
    /// The accounts by name (each name's first declaration).
    pub(super) specs: BTreeMap<String, AccountSpec>,
    /// What the later checks need of each, by name.
    pub(super) info: FastMap<&'p str, AccountInfo<'p>>,
}

/// A checked account, as far as the later checks need it.
pub(super) struct AccountInfo<'p> {
    /// Its position in [`crate::load::Parsed::accounts`].
    pub(super) item: usize,
    /// Its valid id, if given.
    pub(super) id: Option<&'p str>,
    /// Whether FullAWSAccess stays attached.
    pub(super) full_aws_access: bool,
}

/// A place in a file: file index, line, column.
type Place = (usize, u32, u32);

fn place<T>(file: usize, value: &Located<T>) -> Place {
    (file, value.line, value.column)
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
    let n = parsed.accounts.len();
    let mut account_info: FastMap<&str, AccountInfo<'p>> =
        FastMap::with_capacity_and_hasher(n, Default::default());
    // First places, made into a `SourceLoc` only for a diagnostic.
    let mut names: FastMap<&str, Place> = FastMap::with_capacity_and_hasher(n, Default::default());
    let mut emails: FastMap<Cow<'_, str>, Place> =
        FastMap::with_capacity_and_hasher(n, Default::default());
    let mut ids: FastMap<&str, Place> = FastMap::with_capacity_and_hasher(n, Default::default());
    let loc = |(file, line, column): Place| parsed.loc(file, line, column);
    for (item_no, Item { file, index, raw }) in parsed.accounts.iter().enumerate() {
        let (file, index) = (*file, *index);
        let account = &raw.value;
        let field = |f: &str| format!("accounts[{index}].{f}");
        let name = account.name.value.as_str();
        let name_place = place(file, &account.name);
        let name_at = || loc(name_place);
        let n = name.chars().count();
        if n == 0 || n > 50 {
            checker.error(
                name_at(),
                field("name"),
                format!("account name has {n} characters; AWS allows 1 to 50"),
            );
        } else if let Some(problem) = invisible_problem("account name", name) {
            checker.error(name_at(), field("name"), problem);
        } else if !name.chars().all(|ch| (' '..='~').contains(&ch)) {
            checker.error(
                name_at(),
                field("name"),
                format!("account name `{name}`: AWS allows only printable ASCII characters"),
            );
        }
        if name == "root" {
            checker.error(
                name_at(),
                field("name"),
                "an account cannot be named `root`: policy targets use `root` for the \
                 organization root, so the name would be ambiguous",
            );
        } else if name.starts_with('/') {
            checker.error(
                name_at(),
                field("name"),
                format!(
                    "account name `{name}` starts with `/`: policy targets read that as an OU \
                     path"
                ),
            );
        }
        let duplicate_name = names.get(name).copied();
        if let Some(first) = duplicate_name {
            checker.error_related(
                name_at(),
                field("name"),
                format!("account name `{name}` is used twice"),
                loc(first),
            );
        } else {
            names.insert(name, name_place);
        }

        let email = account.email.value.as_str();
        let email_place = place(file, &account.email);
        if let Some(problem) = email_problem(email) {
            checker.error(loc(email_place), field("email"), problem);
        }
        // Lower-case ASCII (nearly every email) is its own folding.
        let folded = if email
            .bytes()
            .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
        {
            Cow::Borrowed(email)
        } else {
            Cow::Owned(email.to_lowercase())
        };
        if let Some(first) = emails.get(&folded) {
            checker.error_related(
                loc(email_place),
                field("email"),
                format!(
                    "root email `{email}` is used twice (emails compare case-insensitively); \
                     every AWS account needs its own"
                ),
                loc(*first),
            );
        } else {
            emails.insert(folded, email_place);
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

        let mut id: Option<&'p str> = None;
        if let Some(i) = &account.id {
            let id_place = place(file, i);
            if !is_account_id(&i.value) {
                checker.error(
                    loc(id_place),
                    field("id"),
                    format!(
                        "`{}` is not an account id: it must be 12 digits, in quotes",
                        i.value
                    ),
                );
            } else if let Some(first) = ids.get(i.value.as_str()) {
                checker.error_related(
                    loc(id_place),
                    field("id"),
                    format!("account id `{}` is used twice", i.value),
                    loc(*first),
                );
            } else {
                ids.insert(&i.value, id_place);
                id = Some(i.value.as_str());
            }
        }
        let tags = checker.tags(file, &account.tags, &|| field("tags"), ignored, false);
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
                    id,
                    full_aws_access,
                },
            );
            accounts.insert(
                name.to_owned(),
                AccountSpec {
                    name: name.to_owned(),
                    email: email.to_owned(),
                    ou: ou.to_owned(),
                    id: id.map(str::to_owned),
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
