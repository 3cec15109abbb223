//! What a use case refuses and why, with no HTTP in it: the API maps a [`Error`] to its JSON
//! envelope and status (`crate::error`), the pages to the field message they show.
//!
//! A refusal names the field at fault by its request path (`config_items[0].quantity`), because
//! the API reports that path and the pages key their messages on it; `code` is the stable reason
//! (`promo_code_expired`) that both show to a program or translate for a person.

/// Why a use case said no.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A field's value breaks a rule.
    Invalid,
    /// A required field was not given.
    Missing,
    /// A field names something this company does not own (or that does not exist).
    UnknownRef,
    /// The thing the request is about does not exist for this company.
    NotFound,
    /// The request does not fit the current state of what it is about (already paid, closed, …).
    Conflict,
    /// A provider we depend on did not answer; the same request may succeed later.
    Unavailable,
    /// Something broke inside Kasse; the cause was logged when the error was made.
    Internal,
}

/// A use case's failure: the refusal, its stable code, a sentence for a person, the field.
#[derive(Clone, Debug)]
pub struct Error {
    pub refusal: Refusal,
    pub code: &'static str,
    pub message: String,
    /// The request field at fault, as a path (`items[2].tiers[1].up_to`), if there is one.
    pub field: Option<String>,
}

pub type ServiceResult<T> = Result<T, Error>;

impl Error {
    fn new(refusal: Refusal, code: &'static str, message: impl Into<String>) -> Error {
        Error { refusal, code, message: message.into(), field: None }
    }

    /// A field whose value breaks a rule.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error { field: Some(field.into()), ..Error::new(Refusal::Invalid, "parameter_invalid", message) }
    }

    /// A required field that was not given.
    pub fn missing(field: impl Into<String>) -> Error {
        let field = field.into();
        Error {
            message: format!("`{field}` is required."),
            field: Some(field),
            ..Error::new(Refusal::Missing, "parameter_missing", "")
        }
    }

    /// An id that names nothing this company owns. Another tenant's ids land here too, so nobody
    /// can learn that they exist.
    pub fn not_found(what: &str, id: &str) -> Error {
        Error::new(Refusal::NotFound, "resource_missing", format!("No such {what}: '{id}'."))
    }

    /// Like [`Error::not_found`], for an id given in a field of the request.
    pub fn unknown_ref(field: impl Into<String>, what: &str, id: &str) -> Error {
        Error {
            field: Some(field.into()),
            ..Error::new(Refusal::UnknownRef, "resource_missing", format!("No such {what}: '{id}'."))
        }
    }

    /// The request does not fit the current state of what it is about.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Error {
        Error::new(Refusal::Conflict, code, message)
    }

    /// A provider we depend on did not answer.
    pub fn unavailable(message: impl Into<String>) -> Error {
        Error::new(Refusal::Unavailable, "provider_unavailable", message)
    }

    /// Something broke inside Kasse. The cause goes to the log (with the request id of the
    /// span), never to whoever asked.
    pub fn internal(cause: impl std::fmt::Display) -> Error {
        tracing::error!(error = %cause, "internal error");
        Error::new(
            Refusal::Internal,
            "internal_error",
            "Something went wrong on our side. Please retry; if it persists, contact support with the request id.",
        )
    }

    /// Replace the sentence for a person, keeping everything else.
    pub fn with_message(mut self, message: impl Into<String>) -> Error {
        self.message = message.into();
        self
    }

    /// Replace the stable reason, keeping everything else.
    pub fn with_code(mut self, code: &'static str) -> Error {
        self.code = code;
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Error {
        self.field = Some(field.into());
        self
    }

    /// A refusal of what was asked (the request can be corrected), rather than a failure on our
    /// side or a provider's.
    pub fn is_refusal(&self) -> bool {
        !matches!(self.refusal, Refusal::Internal | Refusal::Unavailable)
    }

    /// Whether the field at fault is `field`.
    pub fn is_about(&self, field: &str) -> bool {
        self.field.as_deref() == Some(field)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} {}: {}", self.refusal, self.code, self.message)
    }
}

impl From<crate::db::DbError> for Error {
    fn from(err: crate::db::DbError) -> Self {
        match err {
            crate::db::DbError::InvalidText(_) => {
                Error::new(Refusal::Invalid, "parameter_invalid", "Text must not contain NUL characters.")
            }
            err => Error::internal(err),
        }
    }
}
