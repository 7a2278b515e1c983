//! Notification e-mails: HTML and plain text from askama templates in the
//! vendor's branding, sent over SMTP with `lettre`.
//!
//! `SMTP_URL` follows lettre's URL conventions: `smtp://host:port` is plain
//! SMTP (fine on loopback), `smtp://host:587?tls=required` upgrades with
//! STARTTLS and refuses servers that cannot, `smtps://host:465` is TLS from
//! the first byte; `user:password@` in the URL logs in.

use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use calos_core::notify::message::EmailContent;

use super::NotifyConfig;

/// Header colour when the license has no branding.
const DEFAULT_COLOR: &str = "#1f6feb";

#[derive(Template)]
#[template(path = "email/notification.html")]
struct HtmlMail<'a> {
    subject: &'a str,
    product: &'a str,
    color: &'a str,
    headline: &'a str,
    facts: &'a [(String, String)],
    event: &'a str,
    notification_id: i64,
}

#[derive(Template)]
#[template(path = "email/notification.txt")]
struct TextMail<'a> {
    product: &'a str,
    headline: &'a str,
    facts: &'a [(String, String)],
    event: &'a str,
    notification_id: i64,
}

/// The vendor's look: product name and header colour.
#[derive(Debug, Clone)]
pub struct Look {
    pub product: String,
    pub color: String,
}

impl Default for Look {
    fn default() -> Self {
        Self {
            product: "CALOS Enterprise".to_owned(),
            color: DEFAULT_COLOR.to_owned(),
        }
    }
}

/// A rendered e-mail.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders `content` in `look`.
pub fn render(
    content: &EmailContent,
    look: &Look,
    event: &str,
    notification_id: i64,
) -> Result<Rendered, askama::Error> {
    let html = HtmlMail {
        subject: &content.subject,
        product: &look.product,
        color: &look.color,
        headline: &content.headline,
        facts: &content.facts,
        event,
        notification_id,
    }
    .render()?;
    let text = TextMail {
        product: &look.product,
        headline: &content.headline,
        facts: &content.facts,
        event,
        notification_id,
    }
    .render()?;
    Ok(Rendered {
        subject: content.subject.clone(),
        text,
        html,
    })
}

/// Why sending failed; `permanent` failures are not retried.
#[derive(Debug)]
pub struct SendError {
    pub message: String,
    pub permanent: bool,
}

/// An SMTP connection pool to the configured server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    /// The mailer `SMTP_URL` describes, or `None` when it is not set.
    pub fn from_config(config: &NotifyConfig) -> anyhow::Result<Option<Mailer>> {
        let Some(url) = &config.smtp_url else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            .map_err(|e| anyhow::anyhow!("SMTP_URL is not a usable SMTP URL: {e}"))?
            .timeout(Some(config.delivery_timeout))
            .build();
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("the notification From address is invalid: {e}"))?;
        Ok(Some(Mailer { transport, from }))
    }

    /// Sends one message to every address in `to`. Its Message-ID names the
    /// delivery, so a mail client or archive can spot a repeat.
    pub async fn send(
        &self,
        to: &[String],
        mail: &Rendered,
        delivery_id: i64,
    ) -> Result<(), SendError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(&mail.subject)
            .message_id(Some(format!(
                "<calos-delivery-{delivery_id}@calos.invalid>"
            )));
        for address in to {
            let mailbox: Mailbox = address.parse().map_err(|e| SendError {
                message: format!("invalid recipient {address:?}: {e}"),
                permanent: true,
            })?;
            builder = builder.to(mailbox);
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| SendError {
                message: format!("cannot build the message: {e}"),
                permanent: true,
            })?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: format!("SMTP: {e}"),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calos_core::notify::message::compose;
    use calos_core::notify::EventKind;
    use serde_json::json;

    #[test]
    fn html_is_escaped_and_text_is_plain() {
        let data = json!({"customer": {"name": "<b>Evil & Co</b>"}, "reason": "a<b"});
        let content = compose(EventKind::LicenseRevoked, &data, "Acme");
        let look = Look::default();
        let r = render(&content, &look, "license.revoked", 7).unwrap();
        assert!(
            r.html.contains("&#60;b&#62;Evil &#38; Co&#60;/b&#62;"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("<b>Evil"));
        assert!(
            r.text.contains("License of <b>Evil & Co</b> revoked"),
            "{}",
            r.text
        );
        assert!(r.text.contains("Reason: a<b"));
        assert_eq!(r.subject, "[Acme] License of <b>Evil & Co</b> revoked");
    }

    #[test]
    fn no_smtp_url_no_mailer_and_bad_urls_are_errors() {
        let mut c = NotifyConfig::default();
        assert!(Mailer::from_config(&c).unwrap().is_none());
        c.smtp_url = Some(crate::config::Secret::new("ftp://nope".into()));
        assert!(Mailer::from_config(&c).is_err());
        c.smtp_url = Some(crate::config::Secret::new("smtp://127.0.0.1:2525".into()));
        c.mail_from = "not an address".into();
        assert!(Mailer::from_config(&c).is_err());
    }
}
