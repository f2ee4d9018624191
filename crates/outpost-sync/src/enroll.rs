//! Enrolment: a profile on this laptop joins a cohort on a hub with a code
//! from a trainer.

use crate::api::normalise_hub_url;
use crate::client::SyncClient;
use crate::error::SyncError;
use outpost_learner::{settings, Assignment, Enrolment, ProfileId, Store};
use outpost_protocol::{public_key_from_hex, EnrollRequest, PROTOCOL_VERSION};
use serde::Serialize;
use uuid::Uuid;

/// What enrolment gave: shown to the person who enrolled. The device token
/// is kept in the store and is not part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enrolled {
    pub profile: ProfileId,
    pub hub_url: String,
    /// The learner's id on the hub: the profile's own, or the one of the
    /// learner this profile was joined to by e-mail (a second device).
    pub learner_id: Uuid,
    pub learner_name: String,
    pub cohort: String,
    pub device_id: Uuid,
    /// The profile was joined to a learner the hub already knew.
    pub joined_existing_learner: bool,
    pub assignments: Vec<Assignment>,
}

/// Enrol `profile` with the hub at `hub_url` using an enrolment `code`.
/// The device's ed25519 key (made with the store) is registered, so the
/// hub can verify progress files from this laptop. Re-enrolling a profile
/// replaces its token.
pub async fn enroll(
    store: &Store,
    client: &SyncClient,
    hub_url: &str,
    code: &str,
    profile: ProfileId,
    email: Option<&str>,
) -> Result<Enrolled, SyncError> {
    let hub = normalise_hub_url(hub_url)?;
    let code = code.trim();
    if code.is_empty() {
        return Err(SyncError::BadInput(
            "the enrolment code is empty: type the code your trainer gave you".into(),
        ));
    }
    let email = email.map(str::trim).filter(|e| !e.is_empty());
    if let Some(e) = email {
        if !e.contains('@') || e.chars().count() > 200 {
            return Err(SyncError::BadInput(format!(
                "{e:?} is not an e-mail address"
            )));
        }
    }
    let who = store.profile(profile)?;
    let key = store.device_signing_key()?;
    let req = EnrollRequest {
        protocol: PROTOCOL_VERSION,
        code: code.to_string(),
        device_id: store.device_id(),
        device_name: client.config.device_name.clone(),
        device_public_key: hex::encode(key.verifying_key().as_bytes()),
        learner_id: profile.0,
        learner_name: who.name.clone(),
        email: email.map(str::to_string),
        language: who.language.code().to_string(),
    };
    let res = client.enroll(&hub, &req).await.map_err(|f| f.error)?;
    if res.device_id != store.device_id() {
        return Err(SyncError::Protocol(format!(
            "the hub enrolled device {} instead of this one",
            res.device_id
        )));
    }
    let token_ok =
        res.device_token.len() >= 32 && res.device_token.bytes().all(|b| b.is_ascii_hexdigit());
    if !token_ok {
        return Err(SyncError::Protocol(
            "the hub's device token is malformed".into(),
        ));
    }
    if public_key_from_hex(&res.hub_public_key).is_none() {
        return Err(SyncError::Protocol(
            "the hub's public key is malformed".into(),
        ));
    }
    store.set_enrolment(&Enrolment {
        profile,
        hub_url: hub.clone(),
        device_token: res.device_token.clone(),
        hub_learner_id: res.learner_id,
        cohort: res.cohort.clone(),
        hub_public_key: Some(res.hub_public_key.clone()),
        enrolled_at: chrono::Utc::now(),
    })?;
    let assignments: Vec<Assignment> = res
        .assignments
        .iter()
        .map(|a| Assignment {
            course_id: a.course_id.clone(),
            due: a.due,
        })
        .collect();
    store.set_assignments(profile, &assignments)?;
    store.set_setting(settings::HUB_URL, &hub)?;
    Ok(Enrolled {
        profile,
        hub_url: hub,
        learner_id: res.learner_id,
        learner_name: res.learner_name,
        cohort: res.cohort,
        device_id: res.device_id,
        joined_existing_learner: res.learner_id != profile.0,
        assignments,
    })
}
