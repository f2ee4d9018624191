//! Every event maps to exactly one xAPI 1.0.3 statement with the same id.
//!
//! The mapping needs the course (for activity types, the answer key and the
//! passing score: a submitted quiz becomes `passed` or `failed` by grading
//! its responses here, never by a score the device sent).

use crate::course::{Activity, CourseStructure, LessonKind, QuestionKey};
use crate::event::{Event, EventKind};
use crate::grade::{grade_quiz, grade_response};
use serde_json::{json, Map, Value};
use uuid::Uuid;

pub const VERSION: &str = "1.0.3";
const VERBS: &str = "http://adlnet.gov/expapi/verbs/";
const TYPES: &str = "http://adlnet.gov/expapi/activities/";
/// Extensions Outpost adds; IRIs under a namespace we own.
pub const EXT_DEVICE: &str = "https://outpost.example.org/xapi/ext/device-id";
pub const EXT_SEQ: &str = "https://outpost.example.org/xapi/ext/seq";
pub const EXT_COURSE_VERSION: &str = "https://outpost.example.org/xapi/ext/course-version";
pub const EXT_POSITION: &str = "https://outpost.example.org/xapi/ext/position";
pub const EXT_QUESTIONS: &str = "https://outpost.example.org/xapi/ext/questions";
pub const EXT_ATTEMPT: &str = "https://outpost.example.org/xapi/ext/attempt";

/// Where statements point: the hub's address is the learner accounts' home
/// page, and activity IRIs hang under it.
#[derive(Debug, Clone)]
pub struct XapiContext {
    /// e.g. `https://hub.example.org` (no trailing slash).
    pub home_page: String,
}

impl XapiContext {
    pub fn activity_iri(&self, course_id: &str, activity_id: Option<&str>) -> String {
        match activity_id {
            None => format!("{}/xapi/activities/{course_id}", self.home_page),
            Some(a) => format!("{}/xapi/activities/{course_id}/{a}", self.home_page),
        }
    }
}

/// The registration of a learner in a course: one stable UUID per pair, the
/// same on every device and on the hub (UUIDv5 in the learner's namespace).
pub fn registration(learner_id: Uuid, course_id: &str) -> Uuid {
    Uuid::new_v5(&learner_id, course_id.as_bytes())
}

/// ISO 8601 duration, as xAPI wants it.
pub fn duration(seconds: u64) -> String {
    format!("PT{seconds}S")
}

fn response_pattern(ids: &[&str]) -> String {
    ids.join("[,]")
}

fn interaction_definition(key: &QuestionKey) -> Value {
    json!({
        "type": format!("{TYPES}cmi.interaction"),
        "interactionType": "choice",
        "choices": key.options.iter().map(|o| json!({
            "id": o.id,
            "description": {"en-US": format!("Option {}", o.id)}
        })).collect::<Vec<_>>(),
        "correctResponsesPattern": [response_pattern(&key.correct_ids())],
    })
}

/// The statement for one event. Returns `None` only if the event names an
/// activity the course does not have (validate events before mapping).
pub fn statement(event: &Event, course: &CourseStructure, ctx: &XapiContext) -> Option<Value> {
    let activity = course.activity(&event.activity_id)?;
    let object_iri = if matches!(activity, Activity::Course) {
        ctx.activity_iri(&course.id, None)
    } else {
        ctx.activity_iri(&course.id, Some(&event.activity_id))
    };
    let course_iri = ctx.activity_iri(&course.id, None);
    let activity_object = |kind: &str, definition: Option<Value>| {
        let definition = definition.unwrap_or_else(|| json!({ "type": format!("{TYPES}{kind}") }));
        json!({"objectType": "Activity", "id": object_iri, "definition": definition})
    };
    let verb = |name: &str| json!({"id": format!("{VERBS}{name}"), "display": {"en-US": name}});
    let mut extensions = Map::new();
    extensions.insert(EXT_DEVICE.into(), json!(event.device_id));
    extensions.insert(EXT_SEQ.into(), json!(event.seq));
    extensions.insert(EXT_COURSE_VERSION.into(), json!(event.course_version));
    let mut parent = None;
    let (verb, object, result) = match (&event.kind, activity) {
        (
            EventKind::LessonViewed {
                seconds,
                position,
                reached_end,
            },
            Activity::Lesson(module, lesson),
        ) => {
            parent = Some(ctx.activity_iri(&course.id, Some(&module.id)));
            let kind = if lesson.kind == LessonKind::Quiz {
                "assessment"
            } else {
                "lesson"
            };
            (
                verb("experienced"),
                activity_object(kind, None),
                Some(json!({
                    "duration": duration(u64::from(*seconds)),
                    "completion": reached_end,
                    "extensions": { EXT_POSITION: position },
                })),
            )
        }
        (EventKind::QuizStarted { attempt, questions }, _) => {
            extensions.insert(EXT_QUESTIONS.into(), json!(questions));
            extensions.insert(EXT_ATTEMPT.into(), json!(attempt));
            (verb("attempted"), activity_object("assessment", None), None)
        }
        (EventKind::QuestionAnswered { attempt, response }, Activity::Question(key)) => {
            if let Some(a) = attempt {
                extensions.insert(EXT_ATTEMPT.into(), json!(a));
            }
            let chosen: Vec<&str> = response.iter().map(String::as_str).collect();
            (
                verb("answered"),
                activity_object("cmi.interaction", Some(interaction_definition(key))),
                Some(json!({
                    "response": response_pattern(&chosen),
                    "success": grade_response(key, response),
                })),
            )
        }
        (
            EventKind::QuizSubmitted {
                attempt,
                seconds,
                questions,
                responses,
            },
            _,
        ) => {
            extensions.insert(EXT_ATTEMPT.into(), json!(attempt));
            extensions.insert(EXT_QUESTIONS.into(), json!(questions));
            let score = grade_quiz(course, questions, responses);
            let passed = score.passes(course.passing_score);
            (
                verb(if passed { "passed" } else { "failed" }),
                activity_object("assessment", None),
                Some(json!({
                    "score": {
                        "scaled": score.scaled(),
                        "raw": score.correct,
                        "min": 0,
                        "max": score.total,
                    },
                    "success": passed,
                    "completion": true,
                    "duration": duration(u64::from(*seconds)),
                })),
            )
        }
        (EventKind::ModuleCompleted {}, _) => (
            verb("completed"),
            activity_object("module", None),
            Some(json!({"completion": true})),
        ),
        (EventKind::CourseCompleted {}, _) => (
            verb("completed"),
            activity_object("course", None),
            Some(json!({"completion": true})),
        ),
        // Validated events never reach here; treat a mismatch as unmappable.
        _ => return None,
    };

    let mut context_activities = Map::new();
    context_activities.insert(
        "grouping".into(),
        json!([{"objectType": "Activity", "id": course_iri,
                "definition": {"type": format!("{TYPES}course")}}]),
    );
    if let Some(p) = parent {
        context_activities.insert("parent".into(), json!([{"id": p}]));
    }
    let mut statement = json!({
        "id": event.id,
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": ctx.home_page, "name": event.learner_id.to_string()},
        },
        "verb": verb,
        "object": object,
        "context": {
            "registration": registration(event.learner_id, &course.id),
            "platform": "Outpost",
            "contextActivities": context_activities,
            "extensions": extensions,
        },
        "timestamp": event.timestamp.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "version": VERSION,
    });
    if let Some(r) = result {
        statement["result"] = r;
    }
    Some(statement)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::fixtures;
    use chrono::DateTime;
    use std::collections::BTreeMap;

    fn ctx() -> XapiContext {
        XapiContext {
            home_page: "https://hub.example.org".into(),
        }
    }

    fn ev(activity: &str, kind: EventKind) -> Event {
        Event {
            id: Uuid::now_v7(),
            learner_id: Uuid::from_u128(5),
            device_id: Uuid::from_u128(6),
            seq: 3,
            course_id: "demo".into(),
            course_version: "1.0.0".into(),
            activity_id: activity.into(),
            timestamp: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            kind,
        }
    }

    /// Checks every statement must pass, whatever its verb.
    fn common(s: &Value, e: &Event) {
        assert_eq!(s["id"], json!(e.id));
        assert_eq!(
            s["actor"]["account"]["name"],
            json!(e.learner_id.to_string())
        );
        assert_eq!(s["actor"]["account"]["homePage"], "https://hub.example.org");
        assert_eq!(s["timestamp"], "2023-11-14T22:13:20.000Z");
        assert_eq!(
            s["context"]["contextActivities"]["grouping"][0]["id"],
            "https://hub.example.org/xapi/activities/demo"
        );
        assert_eq!(
            s["context"]["registration"],
            json!(registration(e.learner_id, "demo"))
        );
        assert!(s["verb"]["id"].as_str().unwrap().starts_with(VERBS));
    }

    #[test]
    fn lesson_viewed_is_experienced() {
        let e = ev(
            "l1",
            EventKind::LessonViewed {
                seconds: 95,
                position: 0.5,
                reached_end: false,
            },
        );
        let s = statement(&e, &fixtures::course(), &ctx()).unwrap();
        common(&s, &e);
        assert_eq!(
            s["verb"]["id"],
            "http://adlnet.gov/expapi/verbs/experienced"
        );
        assert_eq!(s["object"]["definition"]["type"], format!("{TYPES}lesson"));
        assert_eq!(
            s["object"]["id"],
            "https://hub.example.org/xapi/activities/demo/l1"
        );
        assert_eq!(s["result"]["duration"], "PT95S");
        assert_eq!(
            s["context"]["contextActivities"]["parent"][0]["id"],
            "https://hub.example.org/xapi/activities/demo/m1"
        );
    }

    #[test]
    fn answered_is_a_graded_interaction() {
        let e = ev(
            "quiz-q2",
            EventKind::QuestionAnswered {
                attempt: None,
                response: vec!["a".into(), "c".into()],
            },
        );
        let s = statement(&e, &fixtures::course(), &ctx()).unwrap();
        common(&s, &e);
        assert_eq!(s["verb"]["id"], format!("{VERBS}answered"));
        assert_eq!(s["object"]["definition"]["interactionType"], "choice");
        assert_eq!(
            s["object"]["definition"]["correctResponsesPattern"],
            json!(["a[,]c"])
        );
        assert_eq!(s["result"]["response"], "a[,]c");
        assert_eq!(s["result"]["success"], true);
    }

    #[test]
    fn submitted_is_passed_or_failed_by_regrading() {
        let course = fixtures::course();
        let submit = |answers: [&str; 4]| {
            let questions: Vec<String> = (1..=4).map(|i| format!("bank-{i}")).collect();
            let responses: BTreeMap<String, Vec<String>> = questions
                .iter()
                .zip(answers)
                .map(|(q, a)| (q.clone(), vec![a.to_string()]))
                .collect();
            ev(
                "final",
                EventKind::QuizSubmitted {
                    attempt: Uuid::from_u128(77),
                    seconds: 600,
                    questions,
                    responses,
                },
            )
        };
        let pass = submit(["a", "b", "c", "a"]);
        let s = statement(&pass, &course, &ctx()).unwrap();
        common(&s, &pass);
        assert_eq!(s["verb"]["id"], format!("{VERBS}passed"));
        assert_eq!(s["result"]["score"]["raw"], 3);
        assert_eq!(s["result"]["score"]["max"], 4);
        assert_eq!(s["result"]["score"]["scaled"], 0.75);
        assert_eq!(s["result"]["success"], true);
        assert_eq!(
            s["object"]["definition"]["type"],
            format!("{TYPES}assessment")
        );

        let fail = submit(["b", "b", "c", "a"]);
        let s = statement(&fail, &course, &ctx()).unwrap();
        assert_eq!(s["verb"]["id"], format!("{VERBS}failed"));
        assert_eq!(s["result"]["success"], false);
    }

    #[test]
    fn completions_and_attempts() {
        let course = fixtures::course();
        let m = ev("m1", EventKind::ModuleCompleted {});
        let s = statement(&m, &course, &ctx()).unwrap();
        common(&s, &m);
        assert_eq!(s["verb"]["id"], format!("{VERBS}completed"));
        assert_eq!(s["object"]["definition"]["type"], format!("{TYPES}module"));
        let c = ev("demo", EventKind::CourseCompleted {});
        let s = statement(&c, &course, &ctx()).unwrap();
        assert_eq!(
            s["object"]["id"],
            "https://hub.example.org/xapi/activities/demo"
        );
        assert_eq!(s["object"]["definition"]["type"], format!("{TYPES}course"));
        let a = ev(
            "final",
            EventKind::QuizStarted {
                attempt: Uuid::from_u128(1),
                questions: vec!["bank-1".into()],
            },
        );
        let s = statement(&a, &course, &ctx()).unwrap();
        assert_eq!(s["verb"]["id"], format!("{VERBS}attempted"));
        assert!(s.get("result").is_none());
    }

    #[test]
    fn unknown_activity_has_no_statement() {
        let e = ev("zzz", EventKind::ModuleCompleted {});
        assert!(statement(&e, &fixtures::course(), &ctx()).is_none());
    }
}
