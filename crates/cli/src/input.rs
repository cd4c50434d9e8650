//! Reading inputs: files, stdin, trust stores and times, with errors that say what to do.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use healthpass_trust::TrustStore;
use jiff::Timestamp;

/// Where trust material is looked for when no `--trust` is given.
pub const DEFAULT_TRUST_DIR: &str = "data/trust";

/// Reads a whole file, naming it in the error.
pub fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads a whole file as UTF-8 text.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    String::from_utf8(read_file(path)?)
        .with_context(|| format!("{} is not UTF-8 text", path.display()))
}

/// The QR text named by a command-line INPUT: the text itself, `@FILE`, or `-` for stdin.
pub fn qr_text(input: &str) -> anyhow::Result<String> {
    let text = if input == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input")?;
        text
    } else if let Some(path) = input.strip_prefix('@') {
        read_text(Path::new(path))?
    } else {
        input.to_owned()
    };
    Ok(text.trim().to_owned())
}

/// Loads `--trust` paths, or `data/trust` if none is given and it exists. A folder holding
/// a synced trust state (`healthpass trust sync --state DIR`) gives its verified signers,
/// withdrawals, revocations and rules, and the time they were fetched; it must be the only
/// path.
pub fn trust_store(paths: &[PathBuf], warn_if_empty: bool) -> anyhow::Result<Trust> {
    let default = [PathBuf::from(DEFAULT_TRUST_DIR)];
    let paths = if paths.is_empty() && default[0].is_dir() {
        &default[..]
    } else {
        paths
    };
    let mut store = TrustStore::new();
    let mut fetched_at: Option<Timestamp> = None;
    let mut rules = None;
    for path in paths {
        if let Some(state) = crate::trust::load_state(path)? {
            if paths.len() > 1 {
                anyhow::bail!(
                    "{}: a synced trust state must be the only --trust path",
                    path.display()
                );
            }
            store = state
                .to_trust_store()
                .with_context(|| path.display().to_string())?;
            // Revocation filters (`trust sync --revocation filters`): a hit no exact hash
            // settles is yellow.
            for (kid, filter) in crate::trust::load_filters(path)? {
                if let Some(kid) =
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &kid)
                        .ok()
                        .and_then(|k| <[u8; 8]>::try_from(k).ok())
                {
                    store
                        .revocations_mut()
                        .set_filter(kid, std::sync::Arc::new(filter));
                }
            }
            fetched_at = Some(state.fetched_at);
            rules = Some((
                state
                    .rule_set()
                    .with_context(|| path.display().to_string())?,
                state
                    .value_set_collection()
                    .with_context(|| path.display().to_string())?,
            ));
            continue;
        }
        store.load_path(path)?;
    }
    if store.is_empty() && warn_if_empty {
        eprintln!(
            "warning: no trusted signer certificates loaded; every certificate will be red \
             (pass --trust FILE_OR_DIR, or run `healthpass demo` to make a test PKI in {DEFAULT_TRUST_DIR})"
        );
    }
    Ok(Trust {
        store,
        fetched_at,
        rules,
    })
}

/// What `--trust` gave.
pub struct Trust {
    /// The signers (and withdrawals and revocations, from a synced state).
    pub store: TrustStore,
    /// When a synced state was fetched.
    pub fetched_at: Option<Timestamp>,
    /// A synced state's rules and value sets.
    pub rules: Option<(healthpass_rules::RuleSet, healthpass_rules::ValueSets)>,
}

/// Where rules are looked for when no `--rules` is given.
pub const DEFAULT_RULES_DIR: &str = "data/rules";
/// Where value sets are looked for when no `--valuesets` is given.
pub const DEFAULT_VALUESETS: &str = "data/valuesets";

/// Loads a rule folder (or file), warning on stderr about each rule it refuses so that one
/// bad rule does not hide the others.
pub fn rule_set(path: &Path) -> anyhow::Result<healthpass_rules::RuleSet> {
    let (rules, refused) = healthpass_rules::RuleSet::load_dir(path)
        .with_context(|| format!("cannot read rules from {}", path.display()))?;
    for problem in &refused {
        eprintln!("warning: rule refused: {problem}");
    }
    Ok(rules)
}

/// Loads value sets from a file or folder in either EU format.
pub fn value_sets(path: &Path) -> anyhow::Result<healthpass_rules::ValueSets> {
    Ok(healthpass_rules::ValueSets::load(path)?)
}

/// `--rules`/`--valuesets`, or their defaults under `data/` when they exist.
pub fn rules_and_value_sets(
    rules: Option<&Path>,
    value_sets: Option<&Path>,
    synced: Option<(healthpass_rules::RuleSet, healthpass_rules::ValueSets)>,
) -> anyhow::Result<(healthpass_rules::RuleSet, healthpass_rules::ValueSets)> {
    let (synced_rules, synced_value_sets) = synced.unzip();
    let rules = match rules {
        Some(path) => rule_set(path)?,
        None if let Some(synced) = synced_rules => synced,
        None if Path::new(DEFAULT_RULES_DIR).is_dir() => rule_set(Path::new(DEFAULT_RULES_DIR))?,
        None => bail!(
            "no rules: pass --rules DIR (a folder laid out like the EU business rules, <CC>/<ID>/rule.json)"
        ),
    };
    let value_sets = match value_sets {
        Some(path) => self::value_sets(path)?,
        None if let Some(synced) = synced_value_sets.filter(|v| !v.is_empty()) => synced,
        None if Path::new(DEFAULT_VALUESETS).exists() => {
            self::value_sets(Path::new(DEFAULT_VALUESETS))?
        }
        None => {
            eprintln!(
                "warning: no value sets loaded (pass --valuesets FILE_OR_DIR); rules that consult them will fail"
            );
            healthpass_rules::ValueSets::new()
        }
    };
    Ok((rules, value_sets))
}

/// Parses `--at` (RFC 3339; a missing offset means UTC), or returns the current time.
pub fn time_or_now(at: Option<&str>) -> anyhow::Result<Timestamp> {
    match at {
        None => Ok(Timestamp::now()),
        Some(text) => match healthpass_codec::dcc::parse_lenient_timestamp(text) {
            Some(ts) => Ok(ts),
            None => {
                bail!("--at {text:?} is not an RFC 3339 time; write it like 2026-11-27T09:30:00Z")
            }
        },
    }
}

/// Writes `bytes` to `path` atomically (see [`AtomicFile`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic_with(path, bytes, false)
}

/// Writes a private key atomically, readable by its owner only (mode 0600 on Unix) from the
/// first byte on.
pub fn write_secret_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic_with(path, bytes, true)
}

fn write_atomic_with(path: &Path, bytes: &[u8], secret: bool) -> anyhow::Result<()> {
    let mut file = AtomicFile::create_with(path, secret)?;
    file.writer()
        .write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.commit()
}

/// An output file written under a temporary name and renamed into place only by `commit`, so
/// that a failure never leaves a partial file behind.
pub struct AtomicFile {
    tmp: PathBuf,
    path: PathBuf,
    writer: Option<std::io::BufWriter<std::fs::File>>,
}

impl AtomicFile {
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        Self::create_with(path, false)
    }

    fn create_with(path: &Path, secret: bool) -> anyhow::Result<Self> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if secret {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = secret;
        let file = options
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        Ok(Self {
            tmp,
            path: path.to_owned(),
            writer: Some(std::io::BufWriter::new(file)),
        })
    }

    pub fn writer(&mut self) -> &mut impl Write {
        // Present until commit, which consumes self.
        self.writer.as_mut().expect("writer taken only by commit")
    }

    pub fn commit(mut self) -> anyhow::Result<()> {
        let writer = self.writer.take().expect("writer taken only by commit");
        let file = writer
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write {}", self.tmp.display()))?;
        file.sync_all()
            .with_context(|| format!("cannot write {}", self.tmp.display()))?;
        std::fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal). `total` is in bytes or
/// items; `None` shows a spinner.
pub fn progress_bar(total: Option<u64>, what: &str) -> indicatif::ProgressBar {
    let bar = match total {
        Some(n) => indicatif::ProgressBar::new(n).with_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {percent}% ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        ),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.with_message(what.to_owned())
}

/// `--shc-issuer ISS=PATH`: trusts the keys at PATH for SMART Health Cards whose `iss` is
/// ISS. PATH is a JWKS file, or a folder laid out like the issuer's site
/// (`.well-known/jwks.json`, and `.well-known/crl/<kid>.json` for keys with revocation).
pub fn add_shc_issuer(store: &mut TrustStore, spec: &str) -> anyhow::Result<()> {
    use healthpass_trust::jwk::Jwks;
    use healthpass_trust::shc_crl::ShcCrl;
    let (iss, path) = spec.split_once('=').with_context(|| {
        format!("--shc-issuer {spec:?}: expected ISS=PATH (https://issuer.example=jwks.json)")
    })?;
    let path = Path::new(path);
    let (jwks_path, crl_dir) = if path.is_dir() {
        (
            path.join(".well-known").join("jwks.json"),
            Some(path.join(".well-known").join("crl")),
        )
    } else {
        (path.to_owned(), None)
    };
    let jwks = Jwks::parse(&read_file(&jwks_path)?)
        .with_context(|| format!("{}: not a SMART Health Card key set", jwks_path.display()))?;
    for refused in &jwks.refused {
        eprintln!(
            "warning: {}: key {} refused: {}",
            jwks_path.display(),
            refused.kid.as_deref().unwrap_or("(no kid)"),
            refused.error
        );
    }
    if jwks.keys.is_empty() {
        bail!("{}: no usable key for {iss}", jwks_path.display());
    }
    let versions: Vec<(String, Option<u64>)> = jwks
        .keys
        .iter()
        .map(|k| (k.kid().to_owned(), k.crl_version()))
        .collect();
    store.add_shc_issuer(iss, None, jwks.keys);
    if let Some(dir) = crl_dir.filter(|d| d.is_dir()) {
        for (kid, version) in versions {
            let file = dir.join(format!("{kid}.json"));
            if !file.exists() {
                continue;
            }
            match ShcCrl::parse(&read_file(&file)?, &kid, version) {
                Ok(crl) => {
                    store.add_shc_crl(iss, crl);
                }
                Err(err) => eprintln!(
                    "warning: {}: revocation list refused: {err}; cards of key {kid} are checked without it",
                    file.display()
                ),
            }
        }
    }
    Ok(())
}

/// `--shc-directory SNAPSHOT [--shc-directory-cert PEM]`: trusts the SMART Health Card
/// issuers of a signed VCI directory snapshot. The signature is `SNAPSHOT` with the extension
/// `.sig` (as the directory publishes `logs/vci_snapshot.json` and `logs/vci_snapshot.sig`).
/// Returns when the snapshot was taken.
pub fn add_shc_directory(
    store: &mut TrustStore,
    snapshot: &Path,
    certificate: Option<&Path>,
    now: Timestamp,
) -> anyhow::Result<Timestamp> {
    use healthpass_trust::vci::{DirectorySnapshot, SnapshotSigner};
    let signer = match certificate {
        Some(path) => SnapshotSigner::from_certificate(&read_file(path)?, now)
            .with_context(|| format!("{}: not a usable snapshot signer", path.display()))?,
        None => SnapshotSigner::vci(now).context("the VCI snapshot signer certificate")?,
    };
    let signature_path = snapshot.with_extension("sig");
    let bytes = read_file(snapshot)?;
    let signature = read_file(&signature_path).with_context(|| {
        format!(
            "the snapshot's signature is expected at {}",
            signature_path.display()
        )
    })?;
    let directory = DirectorySnapshot::verify(&bytes, &signature, &signer, now)
        .with_context(|| format!("{}: directory snapshot refused", snapshot.display()))?;
    let added = directory.add_to(store);
    let refused: usize = directory.issuers.iter().map(|i| i.refused_keys.len()).sum();
    let bad_lists: usize = directory.issuers.iter().map(|i| i.refused_crls.len()).sum();
    eprintln!(
        "{}: directory snapshot of {} ({}): {} issuers, {added} keys trusted, {refused} keys and \
         {bad_lists} revocation lists refused",
        snapshot.display(),
        directory.time,
        directory.directory,
        directory.issuers.len(),
    );
    Ok(directory.time)
}

/// `--csca-crl PATH`: the CSCAs' revocation lists (a file or a folder of DER/PEM CRLs), each
/// checked against the CSCA that signed it.
pub fn add_csca_crls(store: &mut TrustStore, path: &Path, now: Timestamp) -> anyhow::Result<()> {
    for file in files_of(path)? {
        let list = store
            .add_csca_revocation_list(&read_file(&file)?, now)
            .with_context(|| format!("{}: revocation list refused", file.display()))?;
        eprintln!(
            "{}: revocation list of {} issued {}: {} certificates revoked",
            file.display(),
            list.issuer(),
            list.this_update(),
            list.len()
        );
    }
    Ok(())
}

/// The files of a folder (sorted), or the path itself.
fn files_of(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    Ok(if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_owned()]
    })
}

/// `--csca PATH`: country signing CA certificates (PEM, DER or Base64; a file or a folder)
/// that anchor ICAO VDS-NC barcode signers.
pub fn add_cscas(store: &mut TrustStore, path: &Path) -> anyhow::Result<usize> {
    let files = files_of(path)?;
    let mut added = 0;
    for file in files {
        for der in TrustStore::parse_certificates(&read_file(&file)?) {
            let csca = healthpass_trust::SignerCertificate::from_der(&der)
                .with_context(|| format!("{}: not a certificate", file.display()))?;
            store.add_csca(csca);
            added += 1;
        }
    }
    if added == 0 {
        bail!("{}: no certificate found", path.display());
    }
    Ok(added)
}
