//! The tokens of claimed names. The first connect with a free name claims it and the
//! server sends its secret token (`name_claimed`); later connects with that name must
//! bring it. The CLI keeps tokens in a JSON file keyed by server origin and folded name:
//! `$EDGECHAT_CONFIG_DIR/names.json`, else `$XDG_CONFIG_HOME/edgechat/names.json`, else
//! `~/.config/edgechat/names.json`.
//!
//! A token is used for later connects only once it is in that file: a claim whose token
//! could not be saved is never confirmed (nor brought back, which would confirm it too),
//! so it lapses and the name is free again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use edgechat_protocol::name_key;

/// Tokens by server origin, then by folded name.
type Stored = BTreeMap<String, BTreeMap<String, String>>;

#[derive(Debug, Default)]
pub struct Tokens {
    /// The file, or none to keep tokens in memory only.
    file: Option<PathBuf>,
    /// `--token` / `EDGECHAT_TOKEN`: sent for every name until a new claim replaces it.
    explicit: Option<String>,
    memory: Stored,
}

/// Where the token file lives, from the environment.
pub fn default_file() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("EDGECHAT_CONFIG_DIR") {
        return Some(dir.join("names.json"));
    }
    let config = var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|h| h.join(".config")))?;
    Some(config.join("edgechat").join("names.json"))
}

fn read(file: &Path) -> Stored {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

impl Tokens {
    pub fn new(file: Option<PathBuf>, explicit: Option<String>) -> Tokens {
        let memory = file.as_deref().map(read).unwrap_or_default();
        Tokens {
            file,
            explicit: explicit.filter(|t| !t.is_empty()),
            memory,
        }
    }

    /// The token to connect to `origin` with as `name`.
    pub fn get(&self, origin: &str, name: &str) -> Option<String> {
        if let Some(t) = &self.explicit {
            return Some(t.clone());
        }
        self.memory.get(origin)?.get(&name_key(name)).cloned()
    }

    /// Saves the token of a fresh claim in the file, then uses it for this name. Fails
    /// if there is no file or it cannot be written: the token is then not used at all.
    pub fn remember(&mut self, origin: &str, name: &str, token: &str) -> Result<(), String> {
        // A fresh claim makes any other token for this name stale.
        self.explicit = None;
        let key = name_key(name);
        if let Some(names) = self.memory.get_mut(origin) {
            names.remove(&key);
        }
        let Some(file) = &self.file else {
            return Err(format!(
                "cannot save the token of the name \"{name}\": no config directory \
                 (set EDGECHAT_CONFIG_DIR or HOME)"
            ));
        };
        // Another process may have stored tokens meanwhile: merge into the file's view.
        let mut stored = read(file);
        stored
            .entry(origin.to_owned())
            .or_default()
            .insert(key.clone(), token.to_owned());
        write(file, &stored).map_err(|e| {
            format!("cannot save the token of the name \"{name}\" in {file:?}: {e}")
        })?;
        self.memory
            .entry(origin.to_owned())
            .or_default()
            .insert(key, token.to_owned());
        Ok(())
    }
}

fn write(file: &Path, stored: &Stored) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(stored).map_err(std::io::Error::other)?;
    let tmp = file.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_kept_per_origin_and_folded_name_and_survive_a_restart() {
        let dir = std::env::temp_dir().join(format!("edgechat-tokens-{}", std::process::id()));
        let file = dir.join("names.json");
        let mut t = Tokens::new(Some(file.clone()), None);
        assert_eq!(t.get("http://a", "Ann"), None);
        t.remember("http://a", "Ann", "t1").unwrap();
        assert_eq!(t.get("http://a", "ANN").as_deref(), Some("t1"));
        assert_eq!(t.get("http://b", "Ann"), None);
        let again = Tokens::new(Some(file.clone()), None);
        assert_eq!(again.get("http://a", "ann").as_deref(), Some("t1"));
        let explicit = Tokens::new(Some(file), Some("x".into()));
        assert_eq!(explicit.get("http://a", "Ann").as_deref(), Some("x"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_token_that_cannot_be_saved_is_not_used() {
        let mut t = Tokens::new(None, Some("old".into()));
        let e = t.remember("http://a", "Bo", "new").unwrap_err();
        assert!(e.contains("EDGECHAT_CONFIG_DIR"), "{e}");
        assert_eq!(
            t.get("http://a", "bo"),
            None,
            "the stale explicit token is dropped too"
        );

        // A file in a directory that cannot be made: the old token is dropped as well.
        let blocker = std::env::temp_dir().join(format!("edgechat-blocker-{}", std::process::id()));
        std::fs::write(&blocker, "a file, not a directory").unwrap();
        let mut t = Tokens::new(Some(blocker.join("names.json")), None);
        t.memory
            .entry("http://a".into())
            .or_default()
            .insert("bo".into(), "older".into());
        assert!(t.remember("http://a", "Bo", "new").is_err());
        assert_eq!(t.get("http://a", "Bo"), None);
        let _ = std::fs::remove_file(blocker);
    }
}
