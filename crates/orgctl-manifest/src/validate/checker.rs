//! The checker every section writes its diagnostics to, and the tag checks they share.

use std::collections::HashSet;

use orgctl_model::{
    BOOKKEEPING_PREFIX, MANAGED_BY_KEY, RECORD_TAG, ROLES_RECORD_TAG, SourceLoc, Tags,
    is_bookkeeping_tag,
};

use super::rules::MAX_TAGS;
use crate::diag::Diagnostic;
use crate::load::Parsed;
use crate::node::Located;
use crate::raw::RawTags;
use crate::text::invisible_problem;

/// The checker's working state: what the files say, and the problems found so far.
pub(super) struct Checker<'p> {
    /// The parsed files.
    pub(super) parsed: &'p Parsed,
    /// The problems the semantic checks found.
    pub(super) diagnostics: Vec<Diagnostic>,
}

impl<'p> Checker<'p> {
    pub(super) fn new(parsed: &'p Parsed) -> Self {
        Checker {
            parsed,
            diagnostics: Vec::new(),
        }
    }

    pub(super) fn error(
        &mut self,
        at: SourceLoc,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.diagnostics
            .push(Diagnostic::error(&at, field, message));
    }

    pub(super) fn error_related(
        &mut self,
        at: SourceLoc,
        field: impl Into<String>,
        message: impl Into<String>,
        related: SourceLoc,
    ) {
        self.diagnostics
            .push(Diagnostic::error(&at, field, message).with_related(related));
    }

    pub(super) fn warning(
        &mut self,
        at: SourceLoc,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.diagnostics
            .push(Diagnostic::warning(&at, field, message));
    }

    pub(super) fn at<T>(&self, file: usize, v: &Located<T>) -> SourceLoc {
        self.parsed.at(file, v)
    }

    /// Checks tags and converts them. `managed_by` says whether orgctl adds its `managed-by`
    /// tag to the resource (OUs and policies; accounts get its roles record,
    /// [`ROLES_RECORD_TAG`], instead); it always adds its record of what was applied
    /// ([`RECORD_TAG`]), so two fewer than AWS's limit are left for the YAML.
    pub(super) fn tags(
        &mut self,
        file: usize,
        tags: &RawTags,
        field: &dyn Fn() -> String,
        ignored: &HashSet<&str>,
        managed_by: bool,
    ) -> Tags {
        let max = MAX_TAGS - 2;
        if let Some((k, _)) = tags.0.get(max) {
            let added = if managed_by {
                format!("the `{MANAGED_BY_KEY}` and `{RECORD_TAG}` tags orgctl adds")
            } else {
                format!("the `{RECORD_TAG}` and `{ROLES_RECORD_TAG}` tags orgctl adds")
            };
            let why = format!(
                "{} tags, plus {added}, is more than AWS's {MAX_TAGS} per resource: at most \
                 {max} here",
                tags.0.len()
            );
            self.error(self.at(file, k), field(), why);
        }
        let mut out = Tags::new();
        for (k, v) in &tags.0 {
            let key = k.value.as_str();
            // The field path is written only for a diagnostic.
            let field = || format!("{}.{key}", field());
            let n = key.chars().count();
            if n == 0 || n > 128 {
                self.error(
                    self.at(file, k),
                    field(),
                    format!("tag key has {n} characters; AWS allows 1 to 128"),
                );
            }
            if let Some(problem) = invisible_problem("tag key", key) {
                self.error(self.at(file, k), field(), problem);
            }
            if let Some(problem) = invisible_problem("tag value", &v.value) {
                self.error(self.at(file, v), field(), problem);
            }
            if key
                .get(..4)
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:"))
            {
                self.error(
                    self.at(file, k),
                    field(),
                    format!("tag key `{key}`: keys starting with `aws:` are reserved for AWS"),
                );
            }
            if is_bookkeeping_tag(key) {
                self.error(
                    self.at(file, k),
                    field(),
                    format!(
                        "tag key `{key}`: keys starting with `{BOOKKEEPING_PREFIX}` are orgctl's \
                         own bookkeeping (such as `{RECORD_TAG}`, the record of what was \
                         applied); remove it here"
                    ),
                );
            } else if key == MANAGED_BY_KEY {
                self.error(
                    self.at(file, k),
                    field(),
                    format!(
                        "`{MANAGED_BY_KEY}` is reserved: orgctl sets it on the OUs and policies \
                         it manages; remove it here"
                    ),
                );
            } else if ignored.contains(key) {
                self.error(
                    self.at(file, k),
                    field(),
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
                    field(),
                    format!("tag value has {vn} characters; AWS allows at most 256"),
                );
            }
            out.insert(k.value.clone(), v.value.clone());
        }
        out
    }
}
