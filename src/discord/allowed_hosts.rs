//! Where attachments may be downloaded from: Discord's CDN hosts
//! (`cdn.discordapp.com`, `media.discordapp.net`, over https) and the
//! origin of `[Discord] API_BASE_URL` (scheme, host and port: a REST proxy,
//! or the fake Discord in tests). Anything else, a redirect included, is
//! refused before a connection is made, so a crafted attachment URL cannot
//! make duet fetch from the local network (SSRF).

use url::Url;

/// Discord's attachment hosts.
pub const DISCORD_CDN_HOSTS: [&str; 2] = ["cdn.discordapp.com", "media.discordapp.net"];

/// The origins attachments may come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    /// `API_BASE_URL`'s scheme, host and port.
    api_origin: Option<(String, String, u16)>,
}

impl AllowedHosts {
    pub fn new(api_base_url: Option<&Url>) -> Self {
        let api_origin = api_base_url.and_then(|url| {
            let host = url.host_str()?.to_ascii_lowercase();
            Some((url.scheme().to_string(), host, url.port_or_known_default()?))
        });
        Self { api_origin }
    }

    /// Whether `url` (as text, from a message or a redirect) may be fetched.
    pub fn allows_text(&self, url: &str) -> bool {
        Url::parse(url).is_ok_and(|url| self.allows(&url))
    }

    /// Whether `url` may be fetched: no credentials in it, and a CDN host
    /// over https on its default port, or exactly `API_BASE_URL`'s origin.
    pub fn allows(&self, url: &Url) -> bool {
        if !url.username().is_empty() || url.password().is_some() {
            return false;
        }
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return false;
        };
        let port = url.port_or_known_default();
        if url.scheme() == "https"
            && port == Some(443)
            && DISCORD_CDN_HOSTS.contains(&host.as_str())
        {
            return true;
        }
        self.api_origin
            .as_ref()
            .is_some_and(|(scheme, api_host, api_port)| {
                url.scheme() == scheme && host == *api_host && port == Some(*api_port)
            })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn hosts(base: Option<&str>) -> AllowedHosts {
        let base = base.map(|b| Url::parse(b).expect("a URL"));
        AllowedHosts::new(base.as_ref())
    }

    #[test]
    fn discords_cdn_is_allowed_over_https_only() {
        let allowed = hosts(None);
        assert!(allowed.allows_text(
            "https://cdn.discordapp.com/attachments/1/2/cat.png?ex=65d903de&is=65c68ede&hm=24"
        ));
        assert!(allowed.allows_text("https://MEDIA.discordapp.net/attachments/1/2/a.png"));
        assert!(!allowed.allows_text("http://cdn.discordapp.com/attachments/1/2/a.png"));
        assert!(!allowed.allows_text("https://cdn.discordapp.com:8443/a.png"));
    }

    #[test]
    fn look_alikes_credentials_and_other_hosts_are_refused() {
        let allowed = hosts(None);
        for url in [
            "https://cdn.discordapp.com.evil.example/a.png",
            "https://evil.example/cdn.discordapp.com/a.png",
            "https://cdn.discordapp.com@evil.example/a.png",
            "https://user:pw@cdn.discordapp.com/a.png",
            "https://169.254.169.254/latest/meta-data",
            "http://127.0.0.1:8080/a.png",
            "file:///etc/passwd",
            "not a url",
            "",
        ] {
            assert!(!allowed.allows_text(url), "{url}");
        }
    }

    #[test]
    fn the_api_base_urls_origin_is_allowed_and_only_on_its_port() {
        let allowed = hosts(Some("http://127.0.0.1:4100/"));
        assert!(allowed.allows_text("http://127.0.0.1:4100/attachments/1/2/a.png"));
        assert!(!allowed.allows_text("http://127.0.0.1:4101/attachments/1/2/a.png"));
        assert!(!allowed.allows_text("https://127.0.0.1:4100/a.png"));
        let proxy = hosts(Some("https://discord-proxy.internal"));
        assert!(proxy.allows_text("https://discord-proxy.internal:443/x"));
        assert!(!proxy.allows_text("http://discord-proxy.internal/x"));
    }

    proptest! {
        #[test]
        fn any_text_is_judged_without_panicking(url in any::<String>()) {
            let _ = hosts(Some("http://127.0.0.1:4100")).allows_text(&url);
        }

        #[test]
        fn only_the_cdn_hosts_pass_without_an_api_base(
            host in "[a-z0-9.-]{1,30}",
            path in "[a-zA-Z0-9/._-]{0,30}",
        ) {
            let url = format!("https://{host}/{path}");
            let allowed = hosts(None).allows_text(&url);
            let cdn = DISCORD_CDN_HOSTS.contains(&host.as_str());
            prop_assert_eq!(allowed, cdn, "{}", url);
        }
    }
}
