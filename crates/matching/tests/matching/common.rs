//! What the property tests share.

use rapport_matching::{Affinity, Catalogue, Engine, Levers, ProfileKey, SuitabilityPolicy};

/// The built-in catalogue with every product co-held with every other, in
/// every profile: similarity proposes everything, so only the hard rules
/// (suitability, eligibility, responsible lending) stand in the way.
pub fn engine(levers: Levers) -> Engine {
    let cat = Catalogue::builtin().unwrap();
    let codes: Vec<String> = cat.iter().map(|p| p.code.clone()).collect();
    let book: Vec<(ProfileKey, Vec<String>)> = (0..5u8)
        .flat_map(|t| {
            let codes = codes.clone();
            (0..5u8).map(move |a| {
                (
                    ProfileKey {
                        age_band: a,
                        income_band: a,
                        tier: t % 4,
                        tolerance: t,
                    },
                    codes.clone(),
                )
            })
        })
        .collect();
    let aff = Affinity::fit(
        &codes,
        book.iter().map(|(k, h)| (*k, h.as_slice(), h.as_slice())),
    );
    Engine::new(cat, SuitabilityPolicy::default(), aff, levers)
}
