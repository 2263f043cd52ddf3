//! Errors of the matching crate.
//!
//! Policy: this is a library, so errors are typed with `thiserror`; each one
//! says what is wrong in words an operator editing the catalogue can act on
//! (which product, which field, what was expected). `anyhow` belongs only at
//! the edges (the app binary).

/// Something the matching crate could not do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchingError {
    /// The catalogue text is not valid TOML or has an unexpected shape.
    #[error("product catalogue is not valid TOML: {0}")]
    CatalogueSyntax(String),

    /// The catalogue has no `[[product]]` entries.
    #[error("product catalogue has no [[product]] entries")]
    EmptyCatalogue,

    /// One product entry breaks a catalogue rule.
    #[error("product catalogue: product {code}, field `{field}`: {message}")]
    InvalidProduct {
        /// The product code, or `#N` (1-based entry number) when the code itself is missing.
        code: String,
        /// The offending field as spelled in the TOML.
        field: &'static str,
        /// What is wrong and what is allowed.
        message: String,
    },
}

impl MatchingError {
    pub(crate) fn invalid(code: &str, field: &'static str, message: impl Into<String>) -> Self {
        MatchingError::InvalidProduct {
            code: code.to_string(),
            field,
            message: message.into(),
        }
    }
}
