//! What the screens show: catalog, outline, lesson player, certificate.
//! Everything is derived from the installed package and the fold.

use crate::certificate::{certificate_code, satisfying_events};
use crate::error::{LearnerError, Result};
use crate::profiles::ProfileId;
use crate::record::QuestionView;
use crate::{CourseMeta, Store};
use chrono::{DateTime, Utc};
use outpost_model::{
    fold, CourseProgress, LessonKind, LessonStatus, MoveOn, QuizProgress, QuizScore,
};
use outpost_package::{Asset, Heading};
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CourseState {
    NotStarted,
    InProgress,
    /// The course's moveOn rule is met: the certificate is earned.
    Satisfied,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResumePoint {
    pub lesson_id: String,
    pub module_id: String,
    pub title: String,
    pub position: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogEntry {
    pub course_id: String,
    pub version: String,
    pub title: String,
    pub description: String,
    /// The language the titles are in, and whether it is not the profile's.
    pub lang: String,
    pub fell_back: bool,
    pub languages: Vec<String>,
    pub fraction_done: f64,
    pub estimated_minutes: u32,
    pub seconds: u64,
    pub state: CourseState,
    pub resume: Option<ResumePoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutlineLesson {
    pub id: String,
    pub title: String,
    pub kind: LessonKind,
    pub minutes: u32,
    pub status: LessonStatus,
    pub position: f64,
    /// For a module quiz: attempts and scores.
    pub quiz: Option<QuizProgress>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutlineModule {
    pub id: String,
    pub title: String,
    pub objectives: Vec<String>,
    pub lessons_done: u32,
    pub lessons_total: u32,
    pub completed: bool,
    pub lessons: Vec<OutlineLesson>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutlineAssessment {
    pub id: String,
    pub title: String,
    /// Questions drawn per attempt.
    pub questions: u32,
    pub minutes: u32,
    pub attempts: u32,
    pub best: Option<QuizScore>,
    pub last: Option<QuizScore>,
    pub passed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outline {
    pub course_id: String,
    pub version: String,
    pub title: String,
    pub lang: String,
    pub fell_back: bool,
    pub move_on: MoveOn,
    pub passing_score: f64,
    pub fraction_done: f64,
    pub state: CourseState,
    pub resume: Option<ResumePoint>,
    pub modules: Vec<OutlineModule>,
    pub assessment: Option<OutlineAssessment>,
}

/// A lesson for the player. `html` is the compiler's sanitised HTML with
/// `asset:NAME` images, `lesson:ID` links and question placeholders that
/// `questions` fills; there is no answer key in here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LessonView {
    pub course_id: String,
    pub lesson_id: String,
    pub module_id: String,
    pub module_title: String,
    pub title: String,
    pub kind: LessonKind,
    pub minutes: u32,
    pub html: String,
    pub headings: Vec<Heading>,
    pub questions: Vec<QuestionView>,
    pub lang: String,
    pub fell_back: bool,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub status: LessonStatus,
    /// Where to resume, 0..=1.
    pub position: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Certificate {
    pub learner_id: Uuid,
    pub learner_name: String,
    pub course_id: String,
    pub course_title: String,
    pub course_version: String,
    pub lang: String,
    pub satisfied_at: Option<DateTime<Utc>>,
    /// Best final assessment score, if the course has one.
    pub best_score: Option<QuizScore>,
    pub verification_code: String,
    /// The events that earned it (see [`satisfying_events`]).
    pub events: Vec<Uuid>,
    /// The hub has confirmed every one of those events.
    pub verified: bool,
}

fn state_of(p: &CourseProgress) -> CourseState {
    if p.satisfied {
        CourseState::Satisfied
    } else if p.events == 0 {
        CourseState::NotStarted
    } else {
        CourseState::InProgress
    }
}

impl Store {
    /// Installed courses with the profile's progress, titles in the
    /// profile's language where the course has it.
    pub fn catalog(&self, profile: ProfileId) -> Result<Vec<CatalogEntry>> {
        let lang = self.profile(profile)?.language;
        let mut out = Vec::new();
        for id in self.installed_courses()? {
            let meta = self.course_meta(&id)?;
            let m = &meta.manifest;
            let used = m.language_for(lang.code()).to_string();
            let progress = self.course_progress(profile, &meta)?;
            let titles = self.titles(&meta, &used)?;
            out.push(CatalogEntry {
                course_id: id.clone(),
                version: meta.version.clone(),
                title: m.title_in(&used).0.to_string(),
                description: m
                    .description
                    .get(&used)
                    .or_else(|| m.description.get(&m.default_language))
                    .cloned()
                    .unwrap_or_default(),
                fell_back: used != lang.code(),
                lang: used,
                languages: m.languages.clone(),
                fraction_done: progress.fraction_done,
                estimated_minutes: m.estimated_minutes,
                seconds: progress.seconds,
                state: state_of(&progress),
                resume: resume_point(&meta, &progress, &titles),
            });
        }
        Ok(out)
    }

    /// Modules and lessons of a course with their status and titles.
    pub fn outline(&self, profile: ProfileId, course: &str) -> Result<Outline> {
        let meta = self.course_meta(course)?;
        let lang = self.profile(profile)?.language;
        let m = &meta.manifest;
        let used = m.language_for(lang.code()).to_string();
        let progress = self.course_progress(profile, &meta)?;
        let titles = self.titles(&meta, &used)?;
        let title = |id: &str| titles.get(id).cloned().unwrap_or_else(|| id.to_string());
        let mut modules = Vec::new();
        for module in &meta.structure.modules {
            let mp = progress.modules.get(&module.id);
            let objectives = self.with_package(course, |p| {
                Ok(p.module(&used, &module.id)?
                    .or(p.module(&m.default_language, &module.id)?)
                    .map(|t| t.objectives)
                    .unwrap_or_default())
            })?;
            modules.push(OutlineModule {
                id: module.id.clone(),
                title: title(&module.id),
                objectives,
                lessons_done: mp.map_or(0, |p| p.lessons_done),
                lessons_total: module.lessons.len() as u32,
                completed: mp.is_some_and(|p| p.completed),
                lessons: module
                    .lessons
                    .iter()
                    .map(|l| {
                        let lp = progress.lessons.get(&l.id);
                        OutlineLesson {
                            id: l.id.clone(),
                            title: title(&l.id),
                            kind: l.kind,
                            minutes: l.minutes,
                            status: lp.map_or(LessonStatus::NotStarted, |p| p.status),
                            position: lp.map_or(0.0, |p| p.position),
                            quiz: progress.quizzes.get(&l.id).cloned(),
                        }
                    })
                    .collect(),
            });
        }
        let assessment = meta.structure.assessment.as_ref().map(|a| {
            let q = progress.quizzes.get(&a.id);
            OutlineAssessment {
                id: a.id.clone(),
                title: title(&a.id),
                questions: a.draw.min(a.bank.len() as u32),
                minutes: a.minutes,
                attempts: q.map_or(0, |q| q.attempts),
                best: q.and_then(|q| q.best),
                last: q.and_then(|q| q.last),
                passed: q.is_some_and(|q| q.passed),
            }
        });
        Ok(Outline {
            course_id: course.into(),
            version: meta.version.clone(),
            title: m.title_in(&used).0.to_string(),
            fell_back: used != lang.code(),
            lang: used,
            move_on: meta.structure.move_on,
            passing_score: meta.structure.passing_score,
            fraction_done: progress.fraction_done,
            state: state_of(&progress),
            resume: resume_point(&meta, &progress, &titles),
            modules,
            assessment,
        })
    }

    /// One lesson for the player, in the profile's language or else the
    /// course's default, with its questions (display text only).
    pub fn lesson(&self, profile: ProfileId, course: &str, lesson_id: &str) -> Result<LessonView> {
        let meta = self.course_meta(course)?;
        let lang = self.profile(profile)?.language;
        let unknown = || LearnerError::UnknownLesson {
            course: course.into(),
            lesson: lesson_id.into(),
        };
        let (module, info) = meta.structure.lesson(lesson_id).ok_or_else(unknown)?;
        let wanted = meta.manifest.language_for(lang.code()).to_string();
        let default = meta.manifest.default_language.clone();
        let text = self.with_package(course, |p| {
            Ok(match p.lesson(&wanted, lesson_id)? {
                Some(t) => Some(t),
                None => p.lesson(&default, lesson_id)?,
            })
        })?;
        let text = text.ok_or_else(|| LearnerError::CourseDamaged {
            course: course.into(),
            detail: format!("lesson {lesson_id:?} has no text"),
        })?;
        let order: Vec<&str> = meta
            .structure
            .lessons()
            .map(|(_, l)| l.id.as_str())
            .collect();
        let at = order.iter().position(|l| *l == lesson_id).unwrap_or(0);
        let progress = self.course_progress(profile, &meta)?;
        let lp = progress.lessons.get(lesson_id);
        let titles = self.titles(&meta, &text.lang)?;
        Ok(LessonView {
            course_id: course.into(),
            lesson_id: lesson_id.into(),
            module_id: module.id.clone(),
            module_title: titles
                .get(&module.id)
                .cloned()
                .unwrap_or_else(|| module.id.clone()),
            title: text.title,
            kind: info.kind,
            minutes: info.minutes,
            html: text.html,
            headings: text.headings,
            questions: self.question_views(&meta, &text.lang, &info.questions)?,
            fell_back: text.lang != lang.code(),
            lang: text.lang,
            prev: at.checked_sub(1).map(|i| order[i].to_string()),
            next: order.get(at + 1).map(|s| s.to_string()),
            status: lp.map_or(LessonStatus::NotStarted, |p| p.status),
            position: lp.map_or(0.0, |p| p.position),
        })
    }

    /// An image of an installed course, by its file name.
    pub fn asset(&self, course: &str, name: &str) -> Result<Option<Asset>> {
        self.with_package(course, |p| Ok(p.asset(name)?))
    }

    /// The certificate, once the course's moveOn rule is met.
    pub fn certificate(&self, profile: ProfileId, course: &str) -> Result<Option<Certificate>> {
        let meta = self.course_meta(course)?;
        let who = self.profile(profile)?;
        let events = self.events_of(profile, course)?;
        let progress = fold(&meta.structure, &events);
        if !progress.satisfied {
            return Ok(None);
        }
        let earned = satisfying_events(&meta.structure, &events);
        let used = meta.manifest.language_for(who.language.code()).to_string();
        let verified = !earned.is_empty() && self.all_confirmed(&earned)?;
        Ok(Some(Certificate {
            learner_id: profile.0,
            learner_name: who.name,
            course_id: course.into(),
            course_title: meta.manifest.title_in(&used).0.to_string(),
            course_version: meta.version.clone(),
            lang: used,
            satisfied_at: progress.satisfied_at,
            best_score: meta
                .structure
                .assessment
                .as_ref()
                .and_then(|a| progress.quizzes.get(&a.id))
                .and_then(|q| q.best),
            verification_code: certificate_code(profile.0, course, &earned),
            events: earned,
            verified,
        }))
    }

    /// Titles of the course's modules, lessons and assessment in `lang`,
    /// falling back to the default language per item.
    fn titles(&self, meta: &CourseMeta, lang: &str) -> Result<HashMap<String, String>> {
        let mut stmt = self.conn.prepare(
            "SELECT activity_id, title, lang = ?2 FROM titles \
             WHERE course_id = ?1 AND lang IN (?2, ?3) ORDER BY lang = ?2",
        )?;
        let rows = stmt.query_map(
            [
                meta.structure.id.as_str(),
                lang,
                meta.manifest.default_language.as_str(),
            ],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )?;
        let mut out = HashMap::new();
        // Default-language rows come first and are overwritten by `lang`'s.
        for row in rows {
            let (id, title) = row?;
            out.insert(id, title);
        }
        Ok(out)
    }
}

fn resume_point(
    meta: &CourseMeta,
    progress: &CourseProgress,
    titles: &HashMap<String, String>,
) -> Option<ResumePoint> {
    let r = progress.resume.as_ref()?;
    let (module, _) = meta.structure.lesson(&r.lesson_id)?;
    Some(ResumePoint {
        lesson_id: r.lesson_id.clone(),
        module_id: module.id.clone(),
        title: titles
            .get(&r.lesson_id)
            .cloned()
            .unwrap_or_else(|| r.lesson_id.clone()),
        position: r.position,
    })
}
