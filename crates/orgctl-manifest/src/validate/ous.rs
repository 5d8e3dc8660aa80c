//! The `ous` lists: paths, ids, tags, and that every parent is declared.

use std::collections::{BTreeMap, HashMap, HashSet};

use orgctl_model::{OuSpec, ROOT_PATH, SourceLoc, parent_path};

use super::checker::Checker;
use super::rules::{is_ou_id, ou_path_segments};
use crate::load::Item;

/// The checked OUs.
pub(super) struct Ous<'p> {
    /// The OUs by path (those whose path is valid and declared once).
    pub(super) specs: BTreeMap<String, OuSpec>,
    /// What the later checks need of each, by path.
    pub(super) info: HashMap<&'p str, OuInfo>,
}

/// A checked OU, as far as the later checks need it.
pub(super) struct OuInfo {
    /// Whether FullAWSAccess stays attached.
    pub(super) full_aws_access: bool,
    /// Where its path is.
    at: SourceLoc,
}

/// Checks every OU; `ignored` are the tag keys orgctl leaves alone.
pub(super) fn check<'p>(checker: &mut Checker<'p>, ignored: &HashSet<&str>) -> Ous<'p> {
    let parsed = checker.parsed;
    let mut ous: BTreeMap<String, OuSpec> = BTreeMap::new();
    let mut ou_info: HashMap<&str, OuInfo> = HashMap::with_capacity(parsed.ous.len());
    let mut ou_ids: HashMap<&str, SourceLoc> = HashMap::new();
    for Item { file, index, raw } in &parsed.ous {
        let (file, index) = (*file, *index);
        let ou = &raw.value;
        let field = |f: &str| format!("ous[{index}].{f}");
        let path_at = checker.at(file, &ou.path);
        let path = ou.path.value.as_str();
        let segments = match ou_path_segments(path) {
            Ok(s) => Some(s),
            Err(msg) => {
                checker.error(path_at.clone(), field("path"), msg);
                None
            }
        };
        if let Some(id) = &ou.id {
            let id_at = checker.at(file, id);
            if !is_ou_id(&id.value) {
                checker.error(
                    id_at,
                    field("id"),
                    format!(
                        "`{}` is not an OU id: expected `ou-` followed by 4–32 and 8–32 \
                         lower-case letters or digits, such as `ou-ab12-cd34ef56`",
                        id.value
                    ),
                );
            } else if let Some(first) = ou_ids.get(id.value.as_str()) {
                checker.error_related(
                    id_at,
                    field("id"),
                    format!("OU id `{}` is used twice", id.value),
                    first.clone(),
                );
            } else {
                ou_ids.insert(&id.value, id_at);
            }
        }
        let tags = checker.tags(file, &ou.tags, &|| field("tags"), ignored, true);
        let full_aws_access = ou.full_aws_access.as_ref().is_none_or(|f| f.value);
        let Some(segments) = segments else { continue };
        if let Some(first) = ou_info.get(path) {
            let first_at = first.at.clone();
            checker.error_related(
                path_at,
                field("path"),
                format!("OU `{path}` is declared twice"),
                first_at,
            );
            continue;
        }
        let source = checker.at(file, raw);
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
                production: ou.production.as_ref().is_some_and(|p| p.value),
                source,
            },
        );
    }
    // Every parent is declared (checked once all OUs are known).
    for Item { file, index, raw } in &parsed.ous {
        let path = raw.value.path.value.as_str();
        if !ous.contains_key(path) {
            continue;
        }
        let parent = parent_path(path);
        if parent != ROOT_PATH && !ous.contains_key(parent) && !parsed.broken.ous {
            checker.error(
                checker.at(*file, &raw.value.path),
                format!("ous[{index}].path"),
                format!(
                    "the parent OU `{parent}` is not declared: every level of the tree is \
                     listed in `ous`"
                ),
            );
        }
    }
    Ous {
        specs: ous,
        info: ou_info,
    }
}
