//! EU value sets: the code lists (vaccines, manufacturers, tests, countries…) that rules
//! consult through `external.valueSets`.
//!
//! Two formats are read: the EU's own (`{"valueSetId", "valueSetDate", "valueSetValues":
//! {code: {"display", "active", …}}}`, one file per set, as ehn-dcc-valuesets and the gateway
//! publish them) and the compressed map `{valueSetId: [code, …]}` that rule tests use.

use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The biggest value-set file read.
const MAX_FILE_BYTES: u64 = 16 << 20;

/// One code of a value set.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueSetEntry {
    /// The human name (`Comirnaty`), when the set gives one.
    pub display: Option<String>,
    /// Whether the code is still in use, when the set says.
    pub active: Option<bool>,
    /// The entry as published.
    pub raw: Json,
}

/// One value set.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueSet {
    /// Its identifier (`vaccines-covid-19-names`).
    pub id: String,
    /// Its publication date, when known.
    pub date: Option<String>,
    /// Its codes.
    pub entries: BTreeMap<String, ValueSetEntry>,
}

/// Value sets by identifier, with the `external.valueSets` map prebuilt.
#[derive(Debug, Clone, Default)]
pub struct ValueSets {
    sets: BTreeMap<String, ValueSet>,
    external: Json,
}

/// Why value sets could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValueSetsError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not JSON, or not in either value-set format.
    #[error("{}: {problem}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

impl ValueSets {
    /// No value sets.
    pub fn new() -> Self {
        Self {
            sets: BTreeMap::new(),
            external: Json::Object(Map::new()),
        }
    }

    /// Reads value sets from a file (either format, or a JSON array of EU-format sets) or
    /// from every `*.json` file of a folder.
    pub fn load(path: &Path) -> Result<ValueSets, ValueSetsError> {
        let io = |source| ValueSetsError::Io {
            path: path.to_owned(),
            source,
        };
        let mut files = Vec::new();
        if std::fs::metadata(path).map_err(io)?.is_dir() {
            for entry in std::fs::read_dir(path).map_err(io)? {
                let p = entry.map_err(io)?.path();
                if p.extension().is_some_and(|e| e == "json") {
                    files.push(p);
                }
            }
            files.sort();
        } else {
            files.push(path.to_owned());
        }
        let mut sets = ValueSets::new();
        for file in files {
            let text = read_capped(&file)?;
            let json: Json = serde_json::from_str(&text).map_err(|e| ValueSetsError::Format {
                path: file.clone(),
                problem: e.to_string(),
            })?;
            sets.add_json(&json)
                .map_err(|problem| ValueSetsError::Format {
                    path: file.clone(),
                    problem,
                })?;
        }
        Ok(sets)
    }

    /// Adds the value sets of one JSON document in either format.
    pub fn add_json(&mut self, json: &Json) -> Result<(), String> {
        match json {
            Json::Array(items) => items.iter().try_for_each(|item| self.add_eu(item)),
            Json::Object(map) if map.contains_key("valueSetId") => self.add_eu(json),
            Json::Object(map) => {
                for (id, codes) in map {
                    let Some(codes) = codes.as_array() else {
                        return Err(format!("value set {id:?} is not an array of codes"));
                    };
                    let mut entries = BTreeMap::new();
                    for code in codes {
                        let Some(code) = code.as_str() else {
                            return Err(format!(
                                "value set {id:?} has a code that is not a string"
                            ));
                        };
                        entries.insert(
                            code.to_owned(),
                            ValueSetEntry {
                                display: None,
                                active: None,
                                raw: Json::Null,
                            },
                        );
                    }
                    self.insert(ValueSet {
                        id: id.clone(),
                        date: None,
                        entries,
                    });
                }
                Ok(())
            }
            _ => Err("neither an EU value set nor a map of value sets".into()),
        }
    }

    fn add_eu(&mut self, json: &Json) -> Result<(), String> {
        let id = json
            .get("valueSetId")
            .and_then(Json::as_str)
            .ok_or("a value set without a string valueSetId")?;
        let values = json
            .get("valueSetValues")
            .and_then(Json::as_object)
            .ok_or_else(|| format!("value set {id:?} has no valueSetValues object"))?;
        let entries = values
            .iter()
            .map(|(code, entry)| {
                let value = ValueSetEntry {
                    display: entry
                        .get("display")
                        .and_then(Json::as_str)
                        .map(str::to_owned),
                    active: entry.get("active").and_then(Json::as_bool),
                    raw: entry.clone(),
                };
                (code.clone(), value)
            })
            .collect();
        let date = json
            .get("valueSetDate")
            .and_then(Json::as_str)
            .map(str::to_owned);
        self.insert(ValueSet {
            id: id.to_owned(),
            date,
            entries,
        });
        Ok(())
    }

    /// Adds (or replaces) one value set.
    pub fn insert(&mut self, set: ValueSet) {
        let codes = set
            .entries
            .keys()
            .map(|c| Json::String(c.clone()))
            .collect();
        if let Json::Object(map) = &mut self.external {
            map.insert(set.id.clone(), Json::Array(codes));
        } else {
            let mut map = Map::new();
            map.insert(set.id.clone(), Json::Array(codes));
            self.external = Json::Object(map);
        }
        self.sets.insert(set.id.clone(), set);
    }

    /// A value set by identifier.
    pub fn get(&self, id: &str) -> Option<&ValueSet> {
        self.sets.get(id)
    }

    /// Every value set.
    pub fn iter(&self) -> impl Iterator<Item = &ValueSet> {
        self.sets.values()
    }

    /// The display name of a code, if its set has one.
    pub fn display(&self, id: &str, code: &str) -> Option<&str> {
        self.get(id)?.entries.get(code)?.display.as_deref()
    }

    /// `external.valueSets` as rules see it: identifier → array of codes.
    pub fn as_external(&self) -> &Json {
        &self.external
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

fn read_capped(path: &Path) -> Result<String, ValueSetsError> {
    use std::io::Read;
    let io = |source| ValueSetsError::Io {
        path: path.to_owned(),
        source,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(ValueSetsError::Format {
            path: path.to_owned(),
            problem: format!("larger than {MAX_FILE_BYTES} bytes"),
        });
    }
    Ok(text)
}
