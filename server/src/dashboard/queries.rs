//! Every report the dashboard shows, as SQL over the tables the hub keeps
//! current on ingest. Aggregates are computed by the database and lists
//! come a page at a time, so a page costs a few indexed queries whatever the
//! number of learners; nothing here loops over learners.
//!
//! Scope: a trainer sees only cohorts whose `trainer` is them. Functions
//! that take `trainer: Option<&str>` add that condition to their SQL
//! (`None` is an admin, who sees everything); functions that take a cohort
//! id are called only with an id that [`cohort`] returned for the viewer.
//!
//! The SQL is the subset SQLite and PostgreSQL share, as in the rest of the
//! hub.

use crate::db::{DbError, Row, Tx, Val};
use outpost_model::CourseProgress;
use uuid::Uuid;

/// SQL text with its parameters, numbered as they are bound.
pub struct Sql {
    pub text: String,
    pub params: Vec<Val>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            params: Vec::new(),
        }
    }
    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }
    /// Append a placeholder bound to `v`.
    pub fn arg(&mut self, v: impl Into<Val>) -> &mut Sql {
        self.params.push(v.into());
        self.text.push_str(&format!("${}", self.params.len()));
        self
    }
    /// ` AND c.trainer = $n` for a trainer; nothing for an admin.
    pub fn trainer(&mut self, cohort_alias: &str, trainer: Option<&str>) -> &mut Sql {
        if let Some(t) = trainer {
            self.push(&format!(" AND {cohort_alias}.trainer = "));
            self.arg(t);
        }
        self
    }
    pub fn page(&mut self, limit: i64, offset: i64) -> &mut Sql {
        self.push(" LIMIT ").arg(limit).push(" OFFSET ").arg(offset)
    }
    /// ` AND {learner_col} IN (learners of the trainer's cohorts)` for a
    /// trainer; nothing for an admin.
    pub fn trainer_learners(&mut self, learner_col: &str, trainer: Option<&str>) -> &mut Sql {
        if let Some(t) = trainer {
            self.push(&format!(
                " AND {learner_col} IN (SELECT l.id FROM learners l JOIN cohorts c ON c.id = l.cohort_id WHERE c.trainer = "
            ))
            .arg(t)
            .push(")");
        }
        self
    }
    pub async fn query(&self, tx: &mut dyn Tx) -> Result<Vec<Row>, DbError> {
        tx.query(&self.text, self.params.clone()).await
    }
    /// Every row, each read by `f`.
    pub async fn rows<T>(
        &self,
        tx: &mut dyn Tx,
        f: impl Fn(&Row) -> Result<T, DbError>,
    ) -> Result<Vec<T>, DbError> {
        rows(tx, &self.text, self.params.clone(), f).await
    }
    /// The first row, if any, read by `f`.
    pub async fn first<T>(
        &self,
        tx: &mut dyn Tx,
        f: impl Fn(&Row) -> Result<T, DbError>,
    ) -> Result<Option<T>, DbError> {
        self.query(tx).await?.first().map(f).transpose()
    }
    pub async fn count(&self, tx: &mut dyn Tx) -> Result<i64, DbError> {
        Ok(self.first(tx, |r| r.i64(0)).await?.unwrap_or(0))
    }
}

/// Every row of a query, each read by `f`.
async fn rows<T>(
    tx: &mut dyn Tx,
    sql: &str,
    params: Vec<Val>,
    f: impl Fn(&Row) -> Result<T, DbError>,
) -> Result<Vec<T>, DbError> {
    tx.query(sql, params).await?.iter().map(f).collect()
}

/// A JSON column written by the hub (a stored fold or event).
fn stored<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T, DbError> {
    serde_json::from_str(json).map_err(|e| DbError::Decode(format!("stored {what}: {e}")))
}

// ----- cohorts ---------------------------------------------------------

#[derive(Debug, Clone)]
pub struct CohortRow {
    pub id: String,
    pub name: String,
    pub trainer: Option<String>,
    pub created_ms: i64,
    pub learners: i64,
    pub courses: i64,
}

const COHORT_COLUMNS: &str = "SELECT c.id, c.name, c.trainer, c.created_ms, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM learners l WHERE l.cohort_id = c.id), \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM assignments a WHERE a.cohort_id = c.id) \
     FROM cohorts c WHERE 1 = 1";

fn cohort_row(r: &Row) -> Result<CohortRow, DbError> {
    Ok(CohortRow {
        id: r.text(0)?,
        name: r.text(1)?,
        trainer: r.opt_text(2)?,
        created_ms: r.i64(3)?,
        learners: r.i64(4)?,
        courses: r.i64(5)?,
    })
}

pub async fn cohorts(
    tx: &mut dyn Tx,
    trainer: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<CohortRow>, i64), DbError> {
    let mut q = Sql::new(COHORT_COLUMNS);
    q.trainer("c", trainer)
        .push(" ORDER BY c.name, c.id")
        .page(limit, offset);
    let rows = q.rows(tx, cohort_row).await?;
    let mut n = Sql::new("SELECT CAST(COUNT(*) AS BIGINT) FROM cohorts c WHERE 1 = 1");
    n.trainer("c", trainer);
    Ok((rows, n.count(tx).await?))
}

/// One cohort, if the viewer may see it.
pub async fn cohort(
    tx: &mut dyn Tx,
    trainer: Option<&str>,
    id: &str,
) -> Result<Option<CohortRow>, DbError> {
    // Cohort ids are UUIDs: anything else (typed into an address) is no
    // cohort, and never reaches the database (PostgreSQL refuses a NUL).
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(None);
    };
    let mut q = Sql::new(COHORT_COLUMNS);
    q.push(" AND c.id = ").arg(id).trainer("c", trainer);
    q.first(tx, cohort_row).await
}

#[derive(Debug, Clone)]
pub struct AssignmentRow {
    pub course_id: String,
    pub due: Option<String>,
}

pub async fn assignments(tx: &mut dyn Tx, cohort_id: &str) -> Result<Vec<AssignmentRow>, DbError> {
    rows(
        tx,
        "SELECT course_id, due FROM assignments WHERE cohort_id = $1 ORDER BY course_id",
        crate::params![cohort_id],
        |r| {
            Ok(AssignmentRow {
                course_id: r.text(0)?,
                due: r.opt_text(1)?,
            })
        },
    )
    .await
}

/// A cohort's results in one course.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CourseStats {
    pub learners: i64,
    /// Learners with any activity in the course.
    pub started: i64,
    pub satisfied: i64,
    pub passed: i64,
    /// Mean best assessment score (0..=1) of those who took it.
    pub mean_best: Option<f64>,
    /// Mean study time of those who started.
    pub mean_seconds: Option<f64>,
    pub total_seconds: i64,
}

pub async fn course_stats(
    tx: &mut dyn Tx,
    cohort_id: &str,
    course_id: &str,
) -> Result<CourseStats, DbError> {
    let r = tx
        .query_opt(
            "SELECT CAST(COUNT(*) AS BIGINT), CAST(COUNT(p.learner_id) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN p.satisfied THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN p.passed THEN 1 ELSE 0 END), 0) AS BIGINT), \
             AVG(p.best_score), AVG(CAST(p.seconds AS DOUBLE PRECISION)), \
             CAST(COALESCE(SUM(p.seconds), 0) AS BIGINT) \
             FROM learners l LEFT JOIN progress p ON p.learner_id = l.id AND p.course_id = $2 \
             WHERE l.cohort_id = $1",
            crate::params![cohort_id, course_id],
        )
        .await?;
    let Some(r) = r else {
        return Ok(CourseStats::default());
    };
    Ok(CourseStats {
        learners: r.i64(0)?,
        started: r.i64(1)?,
        satisfied: r.i64(2)?,
        passed: r.i64(3)?,
        mean_best: r.opt_f64(4)?,
        mean_seconds: r.opt_f64(5)?,
        total_seconds: r.i64(6)?,
    })
}

/// One learner's row of the progress matrix.
#[derive(Debug, Clone)]
pub struct MatrixRow {
    pub learner_id: Uuid,
    pub name: String,
    pub email: Option<String>,
    /// The stored fold; `None` before any activity in the course.
    pub progress: Option<CourseProgress>,
    pub satisfied: bool,
    pub passed: bool,
    pub best_score: Option<f64>,
    pub seconds: i64,
    pub last_activity_ms: Option<i64>,
}

pub async fn matrix(
    tx: &mut dyn Tx,
    cohort_id: &str,
    course_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<MatrixRow>, DbError> {
    let mut q = Sql::new(
        "SELECT l.id, l.name, l.email, p.progress, p.satisfied, p.passed, p.best_score, p.seconds, p.last_activity_ms \
         FROM learners l LEFT JOIN progress p ON p.learner_id = l.id AND p.course_id = ",
    );
    q.arg(course_id)
        .push(" WHERE l.cohort_id = ")
        .arg(cohort_id)
        .push(" ORDER BY l.name, l.id")
        .page(limit, offset);
    q.rows(tx, |r| {
        let progress = r
            .opt_text(3)?
            .map(|j| stored::<CourseProgress>("progress", &j))
            .transpose()?;
        Ok(MatrixRow {
            learner_id: r.uuid(0)?,
            name: r.text(1)?,
            email: r.opt_text(2)?,
            satisfied: progress.is_some() && r.bool(4)?,
            passed: progress.is_some() && r.bool(5)?,
            progress,
            best_score: r.opt_f64(6)?,
            seconds: r.opt_i64(7)?.unwrap_or(0),
            last_activity_ms: r.opt_i64(8)?,
        })
    })
    .await
}

#[derive(Debug, Clone)]
pub struct MemberRow {
    pub learner_id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub language: String,
    pub created_ms: i64,
    pub devices: i64,
    pub last_sync_ms: Option<i64>,
    pub pending: i64,
    pub courses_satisfied: i64,
}

pub async fn members(
    tx: &mut dyn Tx,
    cohort_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<MemberRow>, DbError> {
    let mut q = Sql::new(
        "SELECT l.id, l.name, l.email, l.language, l.created_ms, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM device_tokens t WHERE t.learner_id = l.id), \
         (SELECT MAX(t.last_sync_ms) FROM device_tokens t WHERE t.learner_id = l.id), \
         (SELECT CAST(COALESCE(SUM(t.pending_after), 0) AS BIGINT) FROM device_tokens t WHERE t.learner_id = l.id), \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM progress p WHERE p.learner_id = l.id AND p.satisfied) \
         FROM learners l WHERE l.cohort_id = ",
    );
    q.arg(cohort_id)
        .push(" ORDER BY l.name, l.id")
        .page(limit, offset);
    q.rows(tx, |r| {
        Ok(MemberRow {
            learner_id: r.uuid(0)?,
            name: r.text(1)?,
            email: r.opt_text(2)?,
            language: r.text(3)?,
            created_ms: r.i64(4)?,
            devices: r.i64(5)?,
            last_sync_ms: r.opt_i64(6)?,
            pending: r.i64(7)?,
            courses_satisfied: r.i64(8)?,
        })
    })
    .await
}

#[derive(Debug, Clone)]
pub struct CodeRow {
    pub code: String,
    pub uses_max: i64,
    pub uses: i64,
    pub expires_ms: Option<i64>,
    pub created_ms: i64,
}

pub async fn codes(tx: &mut dyn Tx, cohort_id: &str) -> Result<Vec<CodeRow>, DbError> {
    rows(
        tx,
        "SELECT code, uses_max, uses, expires_ms, created_ms FROM enrolment_codes WHERE cohort_id = $1 ORDER BY created_ms DESC, code",
        crate::params![cohort_id],
        |r| {
            Ok(CodeRow {
                code: r.text(0)?,
                uses_max: r.i64(1)?,
                uses: r.i64(2)?,
                expires_ms: r.opt_i64(3)?,
                created_ms: r.i64(4)?,
            })
        },
    )
    .await
}

// ----- overdue ---------------------------------------------------------

#[derive(Debug, Clone)]
pub struct OverdueRow {
    pub learner_id: Uuid,
    pub name: String,
    pub cohort_id: String,
    pub cohort: String,
    pub course_id: String,
    pub due: String,
    pub fraction: Option<f64>,
    pub last_activity_ms: Option<i64>,
}

/// Learners whose assignment's due date (`YYYY-MM-DD`) is before `today`
/// and who have not satisfied the course.
fn overdue_from(trainer: Option<&str>, cohort_id: Option<&str>, today: &str, select: &str) -> Sql {
    let mut q = Sql::new(select);
    q.push(
        " FROM assignments a JOIN cohorts c ON c.id = a.cohort_id JOIN learners l ON l.cohort_id = a.cohort_id \
         LEFT JOIN progress p ON p.learner_id = l.id AND p.course_id = a.course_id \
         WHERE a.due IS NOT NULL AND a.due < ",
    )
    .arg(today)
    .push(" AND (p.satisfied IS NULL OR NOT p.satisfied)")
    .trainer("c", trainer);
    if let Some(id) = cohort_id {
        q.push(" AND c.id = ").arg(id);
    }
    q
}

pub async fn overdue(
    tx: &mut dyn Tx,
    trainer: Option<&str>,
    cohort_id: Option<&str>,
    today: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OverdueRow>, i64), DbError> {
    let mut q = overdue_from(
        trainer,
        cohort_id,
        today,
        "SELECT l.id, l.name, c.id, c.name, a.course_id, a.due, p.fraction, p.last_activity_ms",
    );
    q.push(" ORDER BY a.due, c.name, l.name, l.id")
        .page(limit, offset);
    let rows = q
        .rows(tx, |r| {
            Ok(OverdueRow {
                learner_id: r.uuid(0)?,
                name: r.text(1)?,
                cohort_id: r.text(2)?,
                cohort: r.text(3)?,
                course_id: r.text(4)?,
                due: r.text(5)?,
                fraction: r.opt_f64(6)?,
                last_activity_ms: r.opt_i64(7)?,
            })
        })
        .await?;
    let total = overdue_from(trainer, cohort_id, today, "SELECT CAST(COUNT(*) AS BIGINT)")
        .count(tx)
        .await?;
    Ok((rows, total))
}

// ----- learners --------------------------------------------------------

#[derive(Debug, Clone)]
pub struct LearnerRow {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub language: String,
    pub created_ms: i64,
    pub cohort_id: String,
    pub cohort: String,
}

/// One learner, if they are in a cohort the viewer may see.
pub async fn learner(
    tx: &mut dyn Tx,
    trainer: Option<&str>,
    id: Uuid,
) -> Result<Option<LearnerRow>, DbError> {
    let mut q = Sql::new(
        "SELECT l.id, l.name, l.email, l.language, l.created_ms, c.id, c.name \
         FROM learners l JOIN cohorts c ON c.id = l.cohort_id WHERE l.id = ",
    );
    q.arg(id).trainer("c", trainer);
    q.first(tx, |r| {
        Ok(LearnerRow {
            id: r.uuid(0)?,
            name: r.text(1)?,
            email: r.opt_text(2)?,
            language: r.text(3)?,
            created_ms: r.i64(4)?,
            cohort_id: r.text(5)?,
            cohort: r.text(6)?,
        })
    })
    .await
}

#[derive(Debug, Clone)]
pub struct ProgressRow {
    pub course_id: String,
    pub course_version: String,
    pub progress: CourseProgress,
    pub best_score: Option<f64>,
    pub last_activity_ms: Option<i64>,
}

pub async fn learner_progress(tx: &mut dyn Tx, id: Uuid) -> Result<Vec<ProgressRow>, DbError> {
    rows(
        tx,
        "SELECT course_id, course_version, progress, best_score, last_activity_ms FROM progress WHERE learner_id = $1 ORDER BY course_id",
        crate::params![id],
        |r| {
            Ok(ProgressRow {
                course_id: r.text(0)?,
                course_version: r.text(1)?,
                progress: stored("progress", &r.text(2)?)?,
                best_score: r.opt_f64(3)?,
                last_activity_ms: r.opt_i64(4)?,
            })
        },
    )
    .await
}

#[derive(Debug, Clone)]
pub struct DeviceRow {
    pub device_id: Uuid,
    pub name: String,
    pub enrolled_ms: i64,
    pub revoked_ms: Option<i64>,
    pub last_sync_ms: Option<i64>,
    pub clock_offset_ms: Option<i64>,
    /// This learner's profile on the device.
    pub profile_last_sync_ms: Option<i64>,
    pub pending_after: Option<i64>,
}

pub async fn learner_devices(tx: &mut dyn Tx, id: Uuid) -> Result<Vec<DeviceRow>, DbError> {
    rows(
        tx,
        "SELECT d.id, d.name, d.enrolled_ms, d.revoked_ms, d.last_sync_ms, d.clock_offset_ms, t.last_sync_ms, t.pending_after \
         FROM device_tokens t JOIN devices d ON d.id = t.device_id WHERE t.learner_id = $1 ORDER BY d.name, d.id",
        crate::params![id],
        |r| {
            Ok(DeviceRow {
                device_id: r.uuid(0)?,
                name: r.text(1)?,
                enrolled_ms: r.i64(2)?,
                revoked_ms: r.opt_i64(3)?,
                last_sync_ms: r.opt_i64(4)?,
                clock_offset_ms: r.opt_i64(5)?,
                profile_last_sync_ms: r.opt_i64(6)?,
                pending_after: r.opt_i64(7)?,
            })
        },
    )
    .await
}

#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub event_id: Uuid,
    pub course_id: String,
    pub course_version: String,
    pub quiz_id: String,
    pub corrected_ms: i64,
    pub correct: Option<i64>,
    pub total: Option<i64>,
    pub passed: Option<bool>,
    pub event: outpost_model::Event,
}

/// The learner's submitted quiz attempts, newest first, with the hub's own
/// grading stored at ingest.
pub async fn learner_attempts(
    tx: &mut dyn Tx,
    id: Uuid,
    limit: i64,
) -> Result<Vec<AttemptRow>, DbError> {
    rows(
        tx,
        "SELECT id, course_id, course_version, activity_id, corrected_ms, score_correct, score_total, passed, content \
         FROM events WHERE hub_learner_id = $1 AND kind = 'quiz_submitted' ORDER BY corrected_ms DESC, id LIMIT $2",
        crate::params![id, limit],
        |r| {
            Ok(AttemptRow {
                event_id: r.uuid(0)?,
                course_id: r.text(1)?,
                course_version: r.text(2)?,
                quiz_id: r.text(3)?,
                corrected_ms: r.i64(4)?,
                correct: r.opt_i64(5)?,
                total: r.opt_i64(6)?,
                passed: match r.0.get(7) {
                    Some(Val::Null) | None => None,
                    _ => Some(r.bool(7)?),
                },
                event: stored("event", &r.text(8)?)?,
            })
        },
    )
    .await
}

/// Whether a device has a learner the viewer may see.
pub async fn device_in_scope(
    tx: &mut dyn Tx,
    trainer: Option<&str>,
    device_id: Uuid,
) -> Result<bool, DbError> {
    let mut q = Sql::new(
        "SELECT 1 FROM device_tokens t JOIN learners l ON l.id = t.learner_id JOIN cohorts c ON c.id = l.cohort_id WHERE t.device_id = ",
    );
    q.arg(device_id).trainer("c", trainer).push(" LIMIT 1");
    Ok(!q.query(tx).await?.is_empty())
}

/// The learner profile's hub learner, if the viewer may see them.
pub async fn profile_in_scope(
    tx: &mut dyn Tx,
    trainer: Option<&str>,
    device_id: Uuid,
    profile_id: Uuid,
) -> Result<Option<Uuid>, DbError> {
    let mut q = Sql::new(
        "SELECT t.learner_id FROM device_tokens t JOIN learners l ON l.id = t.learner_id JOIN cohorts c ON c.id = l.cohort_id WHERE t.device_id = ",
    );
    q.arg(device_id)
        .push(" AND t.profile_id = ")
        .arg(profile_id)
        .trainer("c", trainer);
    q.first(tx, |r| r.uuid(0)).await
}

// ----- item analysis ---------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerCount {
    pub quiz_id: String,
    pub question_id: String,
    /// As stored: sorted option ids joined by `,`, empty when unanswered.
    pub options: String,
    pub count: i64,
}

/// How often each combination of options was chosen for each question of
/// one course version, over the viewer's learners (and one cohort's, when
/// given).
pub async fn answer_counts(
    tx: &mut dyn Tx,
    trainer: Option<&str>,
    cohort_id: Option<&str>,
    course_id: &str,
    version: &str,
) -> Result<Vec<AnswerCount>, DbError> {
    let mut q = Sql::new(
        "SELECT qa.quiz_id, qa.question_id, qa.options, CAST(COUNT(*) AS BIGINT) FROM quiz_answers qa WHERE qa.course_id = ",
    );
    q.arg(course_id)
        .push(" AND qa.course_version = ")
        .arg(version);
    q.trainer_learners("qa.learner_id", trainer);
    if let Some(c) = cohort_id {
        q.push(" AND qa.learner_id IN (SELECT l.id FROM learners l WHERE l.cohort_id = ")
            .arg(c)
            .push(")");
    }
    q.push(" GROUP BY qa.quiz_id, qa.question_id, qa.options ORDER BY qa.quiz_id, qa.question_id, qa.options");
    q.rows(tx, |r| {
        Ok(AnswerCount {
            quiz_id: r.text(0)?,
            question_id: r.text(1)?,
            options: r.text(2)?,
            count: r.i64(3)?,
        })
    })
    .await
}

// ----- silent devices --------------------------------------------------

#[derive(Debug, Clone)]
pub struct SilentRow {
    pub device_id: Uuid,
    pub device: String,
    pub enrolled_ms: i64,
    pub last_sync_ms: Option<i64>,
    pub learner_id: Uuid,
    pub learner: String,
    pub cohort_id: String,
    pub cohort: String,
    pub pending_after: Option<i64>,
}

fn silent_from(trainer: Option<&str>, cutoff_ms: i64, select: &str) -> Sql {
    let mut q = Sql::new(select);
    q.push(
        " FROM devices d JOIN device_tokens t ON t.device_id = d.id JOIN learners l ON l.id = t.learner_id \
         JOIN cohorts c ON c.id = l.cohort_id \
         WHERE d.revoked_ms IS NULL AND COALESCE(d.last_sync_ms, d.enrolled_ms) < ",
    )
    .arg(cutoff_ms)
    .trainer("c", trainer);
    q
}

/// Devices (one row per learner profile on them) that have not synced
/// since `cutoff_ms` — or never, and were enrolled before it — with the
/// pending count each profile reported at its last sync. Revoked devices
/// are left out: they will never sync again.
pub async fn silent(
    tx: &mut dyn Tx,
    trainer: Option<&str>,
    cutoff_ms: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SilentRow>, i64), DbError> {
    let mut q = silent_from(
        trainer,
        cutoff_ms,
        "SELECT d.id, d.name, d.enrolled_ms, d.last_sync_ms, l.id, l.name, c.id, c.name, t.pending_after",
    );
    q.push(" ORDER BY COALESCE(d.last_sync_ms, d.enrolled_ms), d.id, l.name, l.id")
        .page(limit, offset);
    let rows = q
        .rows(tx, |r| {
            Ok(SilentRow {
                device_id: r.uuid(0)?,
                device: r.text(1)?,
                enrolled_ms: r.i64(2)?,
                last_sync_ms: r.opt_i64(3)?,
                learner_id: r.uuid(4)?,
                learner: r.text(5)?,
                cohort_id: r.text(6)?,
                cohort: r.text(7)?,
                pending_after: r.opt_i64(8)?,
            })
        })
        .await?;
    let total = silent_from(trainer, cutoff_ms, "SELECT CAST(COUNT(*) AS BIGINT)")
        .count(tx)
        .await?;
    Ok((rows, total))
}

#[derive(Debug, Clone, PartialEq)]
pub struct SilentCohort {
    pub cohort_id: String,
    pub cohort: String,
    pub devices: i64,
    pub pending: i64,
}

/// The same, summed per cohort (a cohort is usually a post).
pub async fn silent_by_cohort(
    tx: &mut dyn Tx,
    trainer: Option<&str>,
    cutoff_ms: i64,
) -> Result<Vec<SilentCohort>, DbError> {
    let mut q = silent_from(
        trainer,
        cutoff_ms,
        "SELECT c.id, c.name, CAST(COUNT(DISTINCT d.id) AS BIGINT), CAST(COALESCE(SUM(t.pending_after), 0) AS BIGINT)",
    );
    q.push(" GROUP BY c.id, c.name ORDER BY c.name");
    q.rows(tx, |r| {
        Ok(SilentCohort {
            cohort_id: r.text(0)?,
            cohort: r.text(1)?,
            devices: r.i64(2)?,
            pending: r.i64(3)?,
        })
    })
    .await
}

// ----- plots -----------------------------------------------------------

/// Learners of a cohort who satisfied a course, per UTC day (days since
/// the epoch), in order.
pub async fn completions_by_day(
    tx: &mut dyn Tx,
    cohort_id: &str,
    course_id: &str,
) -> Result<Vec<(i64, i64)>, DbError> {
    rows(
        tx,
        "SELECT p.satisfied_ms / 86400000, CAST(COUNT(*) AS BIGINT) FROM progress p JOIN learners l ON l.id = p.learner_id \
         WHERE l.cohort_id = $1 AND p.course_id = $2 AND p.satisfied AND p.satisfied_ms IS NOT NULL \
         GROUP BY p.satisfied_ms / 86400000 ORDER BY 1",
        crate::params![cohort_id, course_id],
        |r| Ok((r.i64(0)?, r.i64(1)?)),
    )
    .await
}

/// Best assessment scores of a cohort in a course, with how many learners
/// have each.
pub async fn best_scores(
    tx: &mut dyn Tx,
    cohort_id: &str,
    course_id: &str,
) -> Result<Vec<(f64, i64)>, DbError> {
    rows(
        tx,
        "SELECT p.best_score, CAST(COUNT(*) AS BIGINT) FROM progress p JOIN learners l ON l.id = p.learner_id \
         WHERE l.cohort_id = $1 AND p.course_id = $2 AND p.best_score IS NOT NULL GROUP BY p.best_score ORDER BY 1",
        crate::params![cohort_id, course_id],
        |r| Ok((r.f64(0)?, r.i64(1)?)),
    )
    .await
}

// ----- courses ---------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub struct VersionUse {
    pub course_id: String,
    pub version: String,
    /// Learners with activity recorded on this version.
    pub learners: i64,
    pub last_activity_ms: Option<i64>,
}

/// Which versions learners (the viewer's) have used, by the versions
/// their events name.
pub async fn versions_in_use(
    tx: &mut dyn Tx,
    trainer: Option<&str>,
) -> Result<Vec<VersionUse>, DbError> {
    let mut q = Sql::new(
        "SELECT e.course_id, e.course_version, CAST(COUNT(DISTINCT e.hub_learner_id) AS BIGINT), MAX(e.corrected_ms) FROM events e WHERE 1 = 1",
    );
    q.trainer_learners("e.hub_learner_id", trainer);
    q.push(" GROUP BY e.course_id, e.course_version ORDER BY e.course_id, e.course_version");
    q.rows(tx, |r| {
        Ok(VersionUse {
            course_id: r.text(0)?,
            version: r.text(1)?,
            learners: r.i64(2)?,
            last_activity_ms: r.opt_i64(3)?,
        })
    })
    .await
}

/// Publisher keys the dashboard accepts packages from: those added on the
/// dashboard and those already used to publish.
pub async fn trusted_keys(tx: &mut dyn Tx) -> Result<Vec<(String, String)>, DbError> {
    let mut keys = rows(
        tx,
        "SELECT key, name FROM publisher_keys ORDER BY name, key",
        vec![],
        |r| Ok((r.text(0)?, r.text(1)?)),
    )
    .await?;
    for r in tx
        .query(
            "SELECT DISTINCT publisher_key FROM packages ORDER BY publisher_key",
            vec![],
        )
        .await?
    {
        let k = r.text(0)?;
        if !keys.iter().any(|(have, _)| *have == k) {
            keys.push((k, String::new()));
        }
    }
    Ok(keys)
}
