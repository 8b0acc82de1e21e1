//! scikit-learn objects (as a pickle value tree) to a lifeboat [`Model`].
pub struct Source {
    pub format: String,
    pub file_name: String,
    pub file_sha256: String,
}
#[derive(Debug, thiserror::Error)]
pub enum SklearnError {
    #[error("todo")]
    Todo,
}
pub fn import(
    _tree: &super::pickle::Pickle,
    _source: Source,
    _schema: Option<crate::schema::Schema>,
) -> Result<crate::model::Model, SklearnError> {
    Err(SklearnError::Todo)
}
