//! The export filter: which CRM contacts are exported (lists, tags, valid mobile).
//! Policy for a linked contact that leaves the filter: [`super::OnLeave`].

use super::config::{ExportFilter, FilterMode};
use super::mapping::{Codec, Shape, Value};
use crate::crm::CrmContact;

/// Whether a CRM contact passes the export filter. `phones_field` is the CRM field that
/// holds phone numbers (for "valid mobile only").
pub fn passes(f: &ExportFilter, c: &CrmContact, codec: &Codec, phones_field: &str) -> bool {
    let member = match f.mode {
        FilterMode::All => true,
        FilterMode::Lists => c.lists.iter().any(|l| f.lists.contains(l)),
        FilterMode::Tags => c.tags.iter().any(|t| f.tags.contains(t)),
    };
    if !member {
        return false;
    }
    if f.valid_mobile_only {
        let phones = codec.read_crm(c, phones_field, Shape::Phones, super::mapping::BlockUse::None);
        let Value::Items(items) = phones else { return false };
        return items.iter().any(|i| match &i.original {
            super::mapping::ItemValue::Text(t) => codec.phones().is_valid_mobile(t),
            _ => false,
        });
    }
    true
}
