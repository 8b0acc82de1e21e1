//! Bilingual display text. lifeboat speaks English and Spanish; English is
//! always present and is the fallback when a Spanish text was not written.

use serde::{Deserialize, Serialize};

/// A language the pages and messages can be shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    En,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    /// The two-letter code used in URLs (`?lang=es`) and `Accept-Language`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// Parses a language tag such as `es`, `es-MX` or `EN`; `None` for anything
    /// lifeboat does not speak.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else if primary.eq_ignore_ascii_case("es") {
            Some(Lang::Es)
        } else {
            None
        }
    }
}

/// A piece of text shown to people, in English and (optionally) Spanish.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Text {
    pub en: String,
    pub es: Option<String>,
}

impl Text {
    pub fn new(en: impl Into<String>) -> Text {
        Text {
            en: en.into(),
            es: None,
        }
    }

    pub fn bilingual(en: impl Into<String>, es: impl Into<String>) -> Text {
        Text {
            en: en.into(),
            es: Some(es.into()),
        }
    }

    /// The text in `lang`, falling back to English.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Es => self.es.as_deref().unwrap_or(&self.en),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.en.is_empty() && self.es.as_deref().unwrap_or("").is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanish_falls_back_to_english() {
        let t = Text::new("Age");
        assert_eq!(t.get(Lang::Es), "Age");
        let t = Text::bilingual("Age", "Edad");
        assert_eq!(t.get(Lang::Es), "Edad");
        assert_eq!(t.get(Lang::En), "Age");
    }

    #[test]
    fn language_tags() {
        assert_eq!(Lang::from_tag("es-MX"), Some(Lang::Es));
        assert_eq!(Lang::from_tag("EN"), Some(Lang::En));
        assert_eq!(Lang::from_tag("fr"), None);
        assert_eq!(Lang::from_tag(""), None);
    }
}
