//! What the benchmarks share.

/// The tutorial's example passenger, as form fields.
pub const PASSENGER: [(&str, &str); 7] = [
    ("Pclass", "3"),
    ("Sex", "female"),
    ("Age", "22"),
    ("SibSp", "1"),
    ("Parch", "0"),
    ("Fare", "7.25"),
    ("Embarked", "S"),
];
