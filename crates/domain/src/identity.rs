//! Identity resolution rules: when two customer records are the same person.
//!
//! Pure decision logic; the importer finds candidates in the store and asks
//! [`same_person`] about each. The rules, strongest first:
//! 1. both carry the same valid resident ID number → same person;
//! 2. both carry valid but *different* ID numbers → never the same person;
//! 3. same normalised phone and same normalised name, and the birth dates
//!    agree when both are present → same person.

use crate::values::{PhoneNumber, ResidentId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The identifying fields of one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity<'a> {
    pub id_number: Option<&'a ResidentId>,
    pub phone: Option<&'a PhoneNumber>,
    pub name: Option<&'a str>,
    pub birth_date: Option<NaiveDate>,
}

/// Why two records were merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeRule {
    SameIdNumber,
    SamePhoneAndName,
    SamePhoneNameAndBirthDate,
}

impl MergeRule {
    pub fn as_str(self) -> &'static str {
        match self {
            MergeRule::SameIdNumber => "same_id_number",
            MergeRule::SamePhoneAndName => "same_phone_and_name",
            MergeRule::SamePhoneNameAndBirthDate => "same_phone_name_and_birth_date",
        }
    }
}

/// Names compare after trimming, collapsing inner whitespace and lower-casing.
pub fn normalise_name(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Decides whether `a` and `b` are the same person, and by which rule.
pub fn same_person(a: &Identity<'_>, b: &Identity<'_>) -> Option<MergeRule> {
    match (a.id_number, b.id_number) {
        (Some(x), Some(y)) if x == y => return Some(MergeRule::SameIdNumber),
        (Some(_), Some(_)) => return None,
        _ => {}
    }
    let (pa, pb) = (a.phone?, b.phone?);
    let (na, nb) = (a.name?, b.name?);
    if pa != pb || normalise_name(na) != normalise_name(nb) || normalise_name(na).is_empty() {
        return None;
    }
    match (a.birth_date, b.birth_date) {
        (Some(x), Some(y)) if x == y => Some(MergeRule::SamePhoneNameAndBirthDate),
        (Some(_), Some(_)) => None,
        _ => Some(MergeRule::SamePhoneAndName),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ResidentId {
        ResidentId::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }
    fn phone(s: &str) -> PhoneNumber {
        PhoneNumber::parse(s, "86").unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn two_customers_with_different_valid_id_numbers_are_never_merged() {
        let a_id = id("11010519491231002X");
        let b_id = ResidentId::compose(
            110105,
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap_or_default(),
            4,
        );
        let p = phone("13812345678");
        let a = Identity {
            id_number: Some(&a_id),
            phone: Some(&p),
            name: Some("王伟"),
            birth_date: None,
        };
        let b = Identity {
            id_number: Some(&b_id),
            phone: Some(&p),
            name: Some("王伟"),
            birth_date: None,
        };
        assert_eq!(same_person(&a, &b), None);
    }

    #[test]
    fn the_same_id_number_merges() {
        let a_id = id("11010519491231002X");
        let a = Identity {
            id_number: Some(&a_id),
            phone: None,
            name: Some("王伟"),
            birth_date: None,
        };
        let b = Identity {
            id_number: Some(&a_id),
            phone: None,
            name: Some("Wang Wei"),
            birth_date: None,
        };
        assert_eq!(same_person(&a, &b), Some(MergeRule::SameIdNumber));
    }

    #[test]
    fn phone_and_name_merge_unless_birth_dates_disagree() {
        let p = phone("+86 138 1234 5678");
        let d1 = NaiveDate::from_ymd_opt(1980, 1, 2);
        let d2 = NaiveDate::from_ymd_opt(1981, 1, 2);
        let a = Identity {
            id_number: None,
            phone: Some(&p),
            name: Some(" Li  Na "),
            birth_date: d1,
        };
        let b = Identity {
            id_number: None,
            phone: Some(&p),
            name: Some("li na"),
            birth_date: None,
        };
        assert_eq!(same_person(&a, &b), Some(MergeRule::SamePhoneAndName));
        let c = Identity {
            birth_date: d1,
            ..b.clone()
        };
        assert_eq!(
            same_person(&a, &c),
            Some(MergeRule::SamePhoneNameAndBirthDate)
        );
        let e = Identity {
            birth_date: d2,
            ..b
        };
        assert_eq!(same_person(&a, &e), None);
    }
}
