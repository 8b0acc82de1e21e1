//! The pages' own words in English and Spanish, and which language a visitor
//! gets: `?lang=` first, then `Accept-Language`, then English. Model texts
//! (labels, help, classes) come from the schema's bilingual `Text`s and
//! validation messages from `FieldError::describe`; this file holds only the
//! page chrome. Templates read these as `t.key`.

use std::collections::BTreeMap;

use axum::http::HeaderMap;

use crate::schema::Lang;

/// `(key, English, Spanish)`.
const STRINGS: &[(&str, &str, &str)] = &[
    ("nav_predict", "Predict", "Predecir"),
    ("nav_model", "Model card", "Ficha del modelo"),
    ("nav_batch", "CSV files", "Archivos CSV"),
    ("nav_docs", "API", "API"),
    ("switch_to", "Español", "English"),
    ("skip", "Skip to content", "Saltar al contenido"),
    (
        "intro",
        "Fill in the form and press Predict. Every field explains what it takes.",
        "Rellene el formulario y pulse Predecir. Cada campo explica qué admite.",
    ),
    ("required", "required", "obligatorio"),
    ("optional", "optional", "opcional"),
    ("unknown", "unknown", "desconocido"),
    ("choose", "— choose —", "— elija —"),
    ("yes", "Yes", "Sí"),
    ("no", "No", "No"),
    ("submit", "Predict", "Predecir"),
    ("reset", "Start again", "Empezar de nuevo"),
    (
        "errors_heading",
        "Some values need a change",
        "Algunos valores deben corregirse",
    ),
    (
        "errors_intro",
        "Each problem is shown next to its field; your values are kept.",
        "Cada problema aparece junto a su campo; sus valores se conservan.",
    ),
    ("result_heading", "Prediction", "Predicción"),
    ("probability", "Probability", "Probabilidad"),
    (
        "probabilities",
        "Probability of each outcome",
        "Probabilidad de cada resultado",
    ),
    ("predicted_value", "Predicted value", "Valor predicho"),
    ("why", "Why", "Por qué"),
    (
        "why_intro",
        "How much each value moved the answer towards «{target}» (right) or away from it (left), compared with an average case, in {units}.",
        "Cuánto acercó cada valor la respuesta a «{target}» (derecha) o la alejó (izquierda), comparado con un caso medio, en {units}.",
    ),
    ("entered", "Values entered", "Valores introducidos"),
    ("try_change", "Try a change", "Pruebe un cambio"),
    ("field", "Field", "Campo"),
    ("value", "Value", "Valor"),
    ("model_heading", "Model card", "Ficha del modelo"),
    ("learner", "Learner", "Algoritmo"),
    ("family", "Kind", "Tipo"),
    ("settings", "Settings", "Parámetros"),
    ("version", "Version", "Versión"),
    ("created", "Created", "Creado"),
    ("provenance", "Provenance", "Procedencia"),
    ("trained_on", "Trained on", "Entrenado con"),
    ("imported_from", "Imported from", "Importado de"),
    ("rows_used", "rows used", "filas usadas"),
    ("rows_skipped", "skipped", "descartadas"),
    ("seed", "seed", "semilla"),
    ("cv_heading", "Cross-validation", "Validación cruzada"),
    (
        "cv_intro",
        "{folds}-fold stratified cross-validation: every row is scored by a model that did not see it. The learner marked ★ is the one served.",
        "Validación cruzada estratificada en {folds} partes: cada fila la evalúa un modelo que no la vio. El algoritmo marcado con ★ es el que se sirve.",
    ),
    ("accuracy", "Accuracy", "Exactitud"),
    ("roc_auc", "ROC AUC", "AUC ROC"),
    ("log_loss", "Log loss", "Pérdida logarítmica"),
    ("confusion", "Confusion matrix", "Matriz de confusión"),
    ("actual", "Actual", "Real"),
    ("predicted", "Predicted", "Predicho"),
    ("importance", "Importance", "Importancia"),
    (
        "importance_intro",
        "The average size of each field's contribution over the training rows, in {units}.",
        "El tamaño medio de la contribución de cada campo sobre las filas de entrenamiento, en {units}.",
    ),
    ("schema_heading", "Inputs", "Entradas"),
    ("kind", "Kind", "Tipo"),
    ("accepts", "Accepts", "Admite"),
    ("default", "Default", "Por defecto"),
    ("outputs", "Outputs", "Salidas"),
    ("kind_number", "number", "número"),
    ("kind_integer", "whole number", "número entero"),
    ("kind_category", "category", "categoría"),
    ("kind_boolean", "yes or no", "sí o no"),
    ("any", "any", "cualquiera"),
    (
        "batch_heading",
        "Score a CSV file",
        "Evaluar un archivo CSV",
    ),
    (
        "batch_intro",
        "Upload a CSV file whose first line names the columns. You get it back with a prediction, a label and one probability column per outcome; rows that cannot be scored are listed. Separated by commas, or by semicolons with decimal commas, as spreadsheets save it.",
        "Suba un archivo CSV cuya primera línea nombre las columnas. Lo recibirá con una predicción, una etiqueta y una columna de probabilidad por resultado; las filas que no se puedan evaluar se enumeran. Separado por comas, o por punto y coma con coma decimal, como lo guardan las hojas de cálculo.",
    ),
    (
        "batch_columns",
        "Columns the model reads",
        "Columnas que lee el modelo",
    ),
    ("batch_file", "CSV file", "Archivo CSV"),
    (
        "batch_explain",
        "Add per-field contributions",
        "Añadir las contribuciones de cada campo",
    ),
    ("batch_submit", "Score the file", "Evaluar el archivo"),
    (
        "batch_download",
        "Download the scored CSV",
        "Descargar el CSV evaluado",
    ),
    (
        "batch_summary",
        "{rows} rows: {predicted} scored, {failed} rejected.",
        "{rows} filas: {predicted} evaluadas, {failed} rechazadas.",
    ),
    (
        "batch_unused",
        "Columns the model does not use (copied through)",
        "Columnas que el modelo no usa (se copian)",
    ),
    (
        "batch_semicolons",
        "The file is separated by semicolons, so its numbers were read with a decimal comma (14,23) as well as a decimal point, and the scored file is written the same way.",
        "El archivo está separado por punto y coma, así que sus números se leyeron con coma decimal (14,23) o con punto decimal, y el archivo evaluado se escribe de la misma forma.",
    ),
    (
        "batch_windows1252",
        "The file is not all UTF-8 text, so the bytes that are not were read as Windows-1252 (as Excel saves CSV files on Windows); the scored file is UTF-8.",
        "El archivo no es todo texto UTF-8, así que los bytes que no lo son se leyeron como Windows-1252 (como Excel guarda los CSV en Windows); el archivo evaluado está en UTF-8.",
    ),
    ("batch_preview", "First rows", "Primeras filas"),
    ("batch_errors", "Rejected rows", "Filas rechazadas"),
    (
        "batch_more_errors",
        "Only the first {n} rejected rows are listed.",
        "Solo se enumeran las primeras {n} filas rechazadas.",
    ),
    ("line", "Line", "Línea"),
    ("problem", "Problem", "Problema"),
    (
        "batch_no_file",
        "Choose a CSV file to upload.",
        "Elija un archivo CSV para subir.",
    ),
    (
        "docs_heading",
        "API documentation",
        "Documentación de la API",
    ),
    (
        "docs_intro",
        "Programs talk to this model over HTTP with JSON. Three protocols are served: lifeboat's own API, the MLflow scoring protocol and the Open Inference Protocol (KServe, MLServer, Triton). The machine-readable description is at",
        "Los programas se comunican con este modelo por HTTP con JSON. Se sirven tres protocolos: la API propia de lifeboat, el protocolo de MLflow y el Open Inference Protocol (KServe, MLServer, Triton). La descripción para máquinas está en",
    ),
    ("docs_example", "Example", "Ejemplo"),
    ("docs_errors", "Errors", "Errores"),
    (
        "docs_errors_intro",
        "Errors of lifeboat's own API are application/problem+json documents (RFC 9457) whose type points here; MLflow routes answer {\"error_code\", \"message\"} and Open Inference routes {\"error\"}.",
        "Los errores de la API propia son documentos application/problem+json (RFC 9457) cuyo type apunta aquí; las rutas de MLflow responden {\"error_code\", \"message\"} y las de Open Inference {\"error\"}.",
    ),
    ("status", "Status", "Estado"),
    ("error_heading", "Something is not right", "Algo no va bien"),
    ("error_home", "Back to the form", "Volver al formulario"),
    (
        "not_found",
        "There is no page at this address.",
        "No hay ninguna página en esta dirección.",
    ),
    ("footer", "Served by lifeboat", "Servido por lifeboat"),
    ("menu", "Menu", "Menú"),
    ("err_malformed-json", "Malformed JSON", "JSON mal formado"),
    ("err_bad-request", "Bad request", "Petición incorrecta"),
    ("err_too-large", "Too large", "Demasiado grande"),
    (
        "err_unsupported-media-type",
        "Unsupported content type",
        "Tipo de contenido no admitido",
    ),
    ("err_invalid-input", "Invalid input", "Datos no válidos"),
    ("err_not-found", "Page not found", "Página no encontrada"),
    (
        "err_method-not-allowed",
        "Method not allowed",
        "Método no permitido",
    ),
    ("err_timeout", "Too slow", "Demasiado lento"),
    ("err_unavailable", "Unavailable", "No disponible"),
    ("err_internal", "Something went wrong", "Algo salió mal"),
];

/// The strings of one language, as a template value (built once at startup).
pub fn strings(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    STRINGS
        .iter()
        .map(|(k, en, es)| (*k, if lang == Lang::Es { *es } else { *en }))
        .collect()
}

/// One string, for Rust code that renders outside templates.
pub fn get(key: &str, lang: Lang) -> &'static str {
    STRINGS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, en, es)| if lang == Lang::Es { *es } else { *en })
        .unwrap_or("")
}

/// What `?lang=` asks for: the first language it names that lifeboat
/// speaks, or else the first (non-empty) value it does not, as sent; `None`
/// without one.
pub fn query_lang(query: Option<&str>) -> Option<Result<Lang, &str>> {
    let mut unknown = None;
    for pair in query?.split('&') {
        let Some(v) = pair.strip_prefix("lang=") else {
            continue;
        };
        match Lang::from_tag(v) {
            Some(lang) => return Some(Ok(lang)),
            None if v.is_empty() => {}
            None => {
                unknown.get_or_insert(v);
            }
        }
    }
    unknown.map(Err)
}

/// The language a request asks for, and whether it asked explicitly
/// (`?lang=`). A `?lang=` lifeboat does not speak falls back, as no
/// `?lang=` does, to `Accept-Language`, then English: a page is shown
/// (with its link to the other language) rather than an error. The JSON
/// API refuses it instead ([`query_lang`]).
pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> (Lang, bool) {
    if let Some(Ok(lang)) = query_lang(query) {
        return (lang, true);
    }
    let lang = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::default(), from_accept_language);
    (lang, false)
}

/// The best of English and Spanish for an `Accept-Language` header
/// (`es-MX,es;q=0.9,en;q=0.8`), English when neither is acceptable.
pub fn from_accept_language(header: &str) -> Lang {
    if header.is_empty() {
        return Lang::default();
    }
    let mut best: Option<(f32, Lang)> = None;
    for super::accept::Weighted { item, q } in super::accept::weighted(header) {
        let Some(lang) = Lang::from_tag(item) else {
            continue;
        };
        if q <= 0.0 {
            continue;
        }
        // Higher q wins; on a tie the earlier entry does.
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language() {
        assert_eq!(from_accept_language("es-MX,es;q=0.9,en;q=0.8"), Lang::Es);
        assert_eq!(from_accept_language("fr,en;q=0.5,es;q=0.7"), Lang::Es);
        assert_eq!(from_accept_language("en-GB,es"), Lang::En);
        assert_eq!(from_accept_language("de"), Lang::En);
        assert_eq!(from_accept_language("es;q=0"), Lang::En);
        assert_eq!(from_accept_language(""), Lang::En);
    }

    #[test]
    fn query_wins() {
        let mut h = HeaderMap::new();
        h.insert("accept-language", "es".parse().unwrap());
        assert_eq!(negotiate(Some("lang=en"), &h), (Lang::En, true));
        assert_eq!(negotiate(Some("x=1"), &h), (Lang::Es, false));
        assert_eq!(negotiate(None, &HeaderMap::new()), (Lang::En, false));
        // A language lifeboat does not speak: the header, then English.
        assert_eq!(negotiate(Some("lang=fr"), &h), (Lang::Es, false));
        assert_eq!(
            negotiate(Some("lang=fr"), &HeaderMap::new()),
            (Lang::En, false)
        );
        assert_eq!(
            negotiate(Some("lang=fr&lang=es"), &HeaderMap::new()),
            (Lang::Es, true)
        );
    }

    #[test]
    fn the_query_names_a_language_or_one_lifeboat_does_not_speak() {
        assert_eq!(query_lang(None), None);
        assert_eq!(query_lang(Some("explain=true")), None);
        assert_eq!(query_lang(Some("lang=")), None);
        assert_eq!(query_lang(Some("lang=es-MX")), Some(Ok(Lang::Es)));
        assert_eq!(query_lang(Some("lang=fr&lang=de")), Some(Err("fr")));
        assert_eq!(query_lang(Some("lang=fr&lang=EN")), Some(Ok(Lang::En)));
    }

    #[test]
    fn both_languages_have_every_string() {
        for (k, en, es) in STRINGS {
            assert!(!en.is_empty() && !es.is_empty(), "{k}");
        }
    }
}
