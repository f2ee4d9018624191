//! Every string of the dashboard, in English and French, in one place:
//! each line gives a string's name, its English and its French. `{0}`,
//! `{1}` … are filled by [`fill`]. A missing translation does not compile.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
    /// The language's name in itself, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
        }
    }
    pub fn text(self) -> &'static Text {
        match self {
            Lang::En => &EN,
            Lang::Fr => &FR,
        }
    }
}

/// Put `args` in place of `{0}`, `{1}` …, in one pass over the template:
/// an argument (often typed by someone: a date, a course id) that itself
/// contains `{1}` is shown as it is, not filled in.
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        let arg = rest.find('}').and_then(|close| {
            let a = rest[1..close].parse::<usize>().ok()?;
            Some((args.get(a)?, close))
        });
        match arg {
            Some((a, close)) => {
                out.push_str(a);
                rest = &rest[close + 1..];
            }
            None => {
                out.push('{');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

macro_rules! texts {
    ($($key:ident: $en:expr, $fr:expr;)*) => {
        /// The dashboard's strings in one language.
        #[derive(Debug)]
        pub struct Text { $(pub $key: &'static str,)* }
        pub const EN: Text = Text { $($key: $en,)* };
        pub const FR: Text = Text { $($key: $fr,)* };
        #[cfg(test)]
        pub fn all(t: &Text) -> Vec<(&'static str, &'static str)> {
            vec![$((stringify!($key), t.$key),)*]
        }
    };
}

texts! {
    // Layout and navigation
    dashboard: "dashboard", "tableau de bord";
    skip_to_content: "Skip to content", "Aller au contenu";
    nav_label: "Main", "Principal";
    nav_cohorts: "Cohorts", "Cohortes";
    nav_overdue: "Overdue learners", "Apprenants en retard";
    nav_silent: "Silent devices", "Appareils silencieux";
    nav_items: "Item analysis", "Analyse des questions";
    nav_courses: "Courses", "Cours";
    nav_files: "Progress files", "Fichiers de progression";
    language: "Language", "Langue";
    change: "Change", "Changer";
    sign_in: "Sign in", "Connexion";
    sign_out: "Sign out", "Déconnexion";
    role_admin: "admin", "administrateur";
    role_trainer: "trainer", "formateur";
    username: "Username", "Nom d'utilisateur";
    password: "Password", "Mot de passe";
    pages: "Pages", "Pages";
    previous: "Previous", "Précédente";
    next: "Next", "Suivante";
    page_of: "Page {0} of {1} ({2} rows)", "Page {0} sur {1} ({2} lignes)";
    no_rows: "Nothing to show.", "Rien à afficher.";
    download_csv: "Download this table as CSV", "Télécharger ce tableau en CSV";
    show: "Show", "Afficher";
    create: "Create", "Créer";
    cancel: "Cancel", "Annuler";
    none: "none", "aucun";
    never: "never", "jamais";
    legend: "Legend", "Légende";
    show_numbers: "Show the numbers", "Afficher les chiffres";

    // Sign-in and security
    login_wrong: "Wrong username or password.", "Nom d'utilisateur ou mot de passe incorrect.";
    login_missing: "Enter your username and password.", "Saisissez votre nom d'utilisateur et votre mot de passe.";
    login_locked: "Too many failed sign-ins for this account or from this address. Sign-in is locked; try again in {0} minutes.", "Trop d'échecs de connexion pour ce compte ou depuis cette adresse. La connexion est bloquée ; réessayez dans {0} minutes.";
    csrf_refused: "This form has expired or did not come from this dashboard. Reload the page and try again.", "Ce formulaire a expiré ou ne vient pas de ce tableau de bord. Rechargez la page et réessayez.";
    admins_only: "Only administrators can do this.", "Seuls les administrateurs peuvent faire cela.";

    // Notices
    done_cohort: "The cohort was created.", "La cohorte a été créée.";
    done_assigned: "The course was assigned.", "Le cours a été attribué.";
    done_code: "A new enrolment code was created.", "Un nouveau code d'inscription a été créé.";
    done_revoked: "The device was revoked: it can no longer sync, online or by file.", "L'appareil a été révoqué : il ne peut plus se synchroniser, ni en ligne ni par fichier.";
    done_published: "The course version was published.", "La version du cours a été publiée.";
    done_key: "The publisher key is now trusted.", "La clé de l'éditeur est maintenant reconnue.";

    // Statuses
    st_done: "Done", "Terminé";
    st_partly: "In progress", "En cours";
    st_none: "Not started", "Pas commencé";
    st_failed: "Not passed", "Non réussi";
    st_overdue: "Overdue", "En retard";

    // Cohorts
    cohort: "Cohort", "Cohorte";
    trainer: "Trainer", "Formateur";
    no_trainer: "no trainer", "aucun formateur";
    learners: "Learners", "Apprenants";
    learner: "Learner", "Apprenant";
    courses_assigned: "Courses assigned", "Cours attribués";
    created: "Created", "Créé le";
    new_cohort: "New cohort", "Nouvelle cohorte";
    cohort_name: "Name of the cohort", "Nom de la cohorte";
    no_such_cohort: "There is no such cohort, or it is not one of yours.", "Cette cohorte n'existe pas ou n'est pas l'une des vôtres.";
    no_such_course: "No course {0} is published on this hub.", "Aucun cours {0} n'est publié sur ce hub.";
    no_such_version: "Version {1} of course {0} is not published on this hub.", "La version {1} du cours {0} n'est pas publiée sur ce hub.";
    overview: "Overview", "Vue d'ensemble";
    members: "Members", "Membres";
    enrolment_codes: "Enrolment codes", "Codes d'inscription";
    course: "Course", "Cours";
    courses: "Courses", "Cours";
    no_courses_yet: "No course is published on this hub yet.", "Aucun cours n'est encore publié sur ce hub.";
    results_in: "Results in {0}", "Résultats dans {0}";
    measure: "Measure", "Mesure";
    value: "Value", "Valeur";
    started: "Started", "Ont commencé";
    completion_rate: "Completion rate", "Taux d'achèvement";
    pass_rate: "Pass rate (final assessment)", "Taux de réussite (évaluation finale)";
    mean_best_score: "Average best score", "Meilleur score moyen";
    mean_time: "Average time spent", "Temps moyen passé";
    total_time: "Total time spent", "Temps total passé";
    due: "Due", "Échéance";
    no_due_date: "no due date", "pas d'échéance";
    overdue_learners: "Overdue learners", "Apprenants en retard";
    progress_matrix: "Progress by module", "Progression par module";
    matrix_caption: "Each learner's progress in the modules of {0}", "Progression de chaque apprenant dans les modules de {0}";
    course_status: "Course", "Cours";
    best_score: "Best score", "Meilleur score";
    time_spent: "Time spent", "Temps passé";
    time_minutes: "Time spent (minutes)", "Temps passé (minutes)";
    last_activity: "Last activity", "Dernière activité";
    plots: "Plots", "Graphiques";
    plot_completion_title: "Learners who completed {0}, over time", "Apprenants ayant terminé {0}, au fil du temps";
    plot_completion_desc: "{0} of {1} learners have completed the course; the line climbs by one for each completion, by day.", "{0} apprenants sur {1} ont terminé le cours ; la ligne monte d'un cran à chaque achèvement, par jour.";
    plot_scores_title: "Best final assessment scores in {0}", "Meilleurs scores à l'évaluation finale dans {0}";
    plot_scores_desc: "How many of the {0} learners who took the assessment have their best score in each band of ten percent.", "Nombre des {0} apprenants ayant passé l'évaluation dont le meilleur score tombe dans chaque tranche de dix pour cent.";
    completions_table: "Completions by day", "Achèvements par jour";
    date: "Date", "Date";
    completed_that_day: "Completed that day", "Terminé ce jour-là";
    completed_so_far: "Completed so far", "Terminé à ce jour";
    scores_table: "Best scores by band", "Meilleurs scores par tranche";
    score_band: "Score", "Score";
    nothing_to_export: "There is nothing to export: no course is published.", "Rien à exporter : aucun cours n'est publié.";
    assigned_courses: "Assigned courses", "Cours attribués";
    due_date: "Due date", "Date d'échéance";
    due_hint: "optional; learners not done by then are shown as overdue", "facultative ; les apprenants qui n'ont pas terminé à cette date apparaissent en retard";
    assign: "Assign", "Attribuer";
    bad_date: "{0} is not a date (YYYY-MM-DD).", "{0} n'est pas une date (AAAA-MM-JJ).";
    date_in_past: "{0} is already past: a code must still be valid after today.", "{0} est déjà passée : un code doit rester valable après aujourd'hui.";
    bad_page: "{0} is not a page number.", "{0} n'est pas un numéro de page.";
    members_of: "Members of {0}", "Membres de {0}";
    email: "E-mail", "Courriel";
    enrolled: "Enrolled", "Inscrit le";
    devices: "Devices", "Appareils";
    last_sync: "Last sync", "Dernière synchronisation";
    pending_at_last_sync: "Waiting to sync (at last sync)", "En attente (à la dernière synchronisation)";
    courses_completed: "Courses completed", "Cours terminés";
    codes_of: "Enrolment codes of {0}", "Codes d'inscription de {0}";
    code: "Code", "Code";
    uses: "Used", "Utilisé";
    uses_left: "Uses left", "Utilisations restantes";
    expires: "Last valid day", "Dernier jour de validité";
    state: "State", "État";
    code_valid: "valid", "valable";
    code_used_up: "used up", "épuisé";
    code_expired: "expired", "expiré";
    codes_print_intro: "Enrolment codes for Outpost, cohort", "Codes d'inscription à Outpost, cohorte";
    print_hint: "Print this page for a clean list of the codes (navigation and forms are left out).", "Imprimez cette page pour obtenir une liste nette des codes (la navigation et les formulaires sont omis).";
    new_code: "New enrolment code", "Nouveau code d'inscription";
    uses_allowed: "Learners who may enrol with it", "Apprenants pouvant s'inscrire avec";
    last_day: "Last valid day", "Dernier jour de validité";
    expires_hint: "optional; the code works through this whole day (UTC)", "facultatif ; le code fonctionne toute cette journée (UTC)";
    create_code: "Create the code", "Créer le code";
    bad_uses: "{0} is not a number of uses between 1 and 100000.", "{0} n'est pas un nombre d'utilisations entre 1 et 100000.";

    // Learners
    no_such_learner: "There is no such learner, or they are not in one of your cohorts.", "Cet apprenant n'existe pas ou n'est pas dans l'une de vos cohortes.";
    courses_of: "Courses of {0}", "Cours de {0}";
    version: "Version", "Version";
    lessons_done: "Lessons done", "Leçons terminées";
    lessons_of: "Lessons of {0}", "Leçons de {0}";
    lessons: "Lessons", "Leçons";
    module: "Module", "Module";
    lesson: "Lesson", "Leçon";
    status: "Status", "Statut";
    done_on: "Done on", "Terminé le";
    quiz_attempts: "Quiz attempts", "Tentatives aux quiz";
    attempts_of: "Quiz attempts of {0}, newest first", "Tentatives de {0}, les plus récentes d'abord";
    quiz: "Quiz", "Quiz";
    score: "Score", "Score";
    result: "Result", "Résultat";
    passed: "passed", "réussi";
    not_passed: "not passed", "non réussi";
    answers: "Answers", "Réponses";
    answers_of: "Answers of {0}, graded again by the hub from the answer key", "Réponses de {0}, corrigées à nouveau par le hub d'après le corrigé";
    attempt: "Attempt", "Tentative";
    question: "Question", "Question";
    answer_given: "Answer given", "Réponse donnée";
    correct_answer: "Correct answer", "Bonne réponse";
    right: "right", "juste";
    wrong: "wrong", "faux";
    no_answer: "no answer", "pas de réponse";
    question_removed: "not in this version", "absente de cette version";
    devices_of: "Devices of {0}", "Appareils de {0}";
    device: "Device", "Appareil";
    clock_offset: "Clock offset", "Décalage d'horloge";
    action: "Action", "Action";
    revoke: "Revoke", "Révoquer";
    revoked_on: "revoked on {0}", "révoqué le {0}";
    synced_days_ago: "synced {0} days ago", "synchronisé il y a {0} jours";
    never_synced: "never synced", "jamais synchronisé";
    no_such_device: "There is no such device, or it is not one of your learners'.", "Cet appareil n'existe pas ou n'appartient pas à l'un de vos apprenants.";

    // Reports
    overdue_in: "Overdue learners in {0}", "Apprenants en retard dans {0}";
    overdue_intro: "Learners whose course was due before today and who have not completed it.", "Apprenants dont le cours était dû avant aujourd'hui et qui ne l'ont pas terminé.";
    silent_caption: "Devices not synced for {0} days or more", "Appareils non synchronisés depuis {0} jours ou plus";
    silent_by_cohort: "Silent devices by cohort", "Appareils silencieux par cohorte";
    not_synced_for: "Not synced for", "Non synchronisés depuis";
    days: "days", "jours";
    days_silent: "Days without sync", "Jours sans synchronisation";
    bad_days: "{0} is not a number of days between 0 and 3650.", "{0} n'est pas un nombre de jours entre 0 et 3650.";
    items_hint: "Answers to every question of one course version: how many are right, and which wrong options people choose.", "Réponses à chaque question d'une version de cours : combien sont justes et quelles mauvaises options sont choisies.";
    all_my_cohorts: "all cohorts", "toutes les cohortes";
    everyone_fails: "Questions nobody has answered correctly", "Questions auxquelles personne n'a bien répondu";
    nobody_fails_all: "None: every question answered so far has been answered correctly at least once.", "Aucune : chaque question a reçu au moins une bonne réponse.";
    n_answers: "{0} answers", "{0} réponses";
    items_caption: "Questions of {0}", "Questions de {0}";
    answers_count: "Answers", "Réponses";
    share_correct: "Share correct", "Part de bonnes réponses";
    wrong_options_chosen: "Wrong options chosen (times)", "Mauvaises options choisies (fois)";
    unanswered: "Unanswered", "Sans réponse";
    question_id: "Question id", "Identifiant";

    // Courses
    published_versions: "Published course versions", "Versions de cours publiées";
    published: "Published", "Publiée le";
    size: "Size", "Taille";
    sha256: "SHA-256 (start)", "SHA-256 (début)";
    learners_on_version: "Learners with activity on it", "Apprenants actifs sur cette version";
    newest: "newest", "la plus récente";
    trusted_keys: "Trusted publisher keys", "Clés d'éditeur reconnues";
    publisher_key: "Publisher key", "Clé de l'éditeur";
    name: "Name", "Nom";
    used_on_command_line: "used to publish on the command line", "utilisée pour publier en ligne de commande";
    upload_package: "Upload a course package", "Téléverser un paquet de cours";
    upload_intro: "The package is checked against the trusted publisher keys; you then see what the update changes before you publish it.", "Le paquet est vérifié avec les clés d'éditeur reconnues ; vous voyez ensuite ce que la mise à jour change avant de la publier.";
    package_file: "Package file (.opkg)", "Fichier du paquet (.opkg)";
    check_package: "Check the package", "Vérifier le paquet";
    publisher_name: "Publisher's name", "Nom de l'éditeur";
    key_hint: "64 hex digits, the content of the .pub file made by outpost-course keygen", "64 chiffres hexadécimaux, le contenu du fichier .pub créé par outpost-course keygen";
    add_key: "Trust this key", "Reconnaître cette clé";
    key_name_needed: "Give the publisher's name.", "Indiquez le nom de l'éditeur.";
    bad_key: "This is not a publisher key: expected 64 hex digits.", "Ce n'est pas une clé d'éditeur : 64 chiffres hexadécimaux attendus.";
    upload_failed: "The upload could not be read: {0}", "Le fichier envoyé n'a pas pu être lu : {0}";
    no_file: "Choose a file to upload.", "Choisissez un fichier à envoyer.";
    not_a_package: "This file is not an Outpost course package.", "Ce fichier n'est pas un paquet de cours Outpost.";
    package_newer: "This package has format {0}; this hub reads up to {1}. Update the hub first.", "Ce paquet est au format {0} ; ce hub lit jusqu'au format {1}. Mettez d'abord le hub à jour.";
    package_damaged: "The package is damaged ({0}); get a fresh copy.", "Le paquet est endommagé ({0}) ; procurez-vous une copie intacte.";
    package_tampered: "The package's signature does not match its content: it was changed after it was signed. It was not published.", "La signature du paquet ne correspond pas à son contenu : il a été modifié après sa signature. Il n'a pas été publié.";
    unknown_publisher: "The package is signed by a publisher key this hub does not trust ({0}). An administrator can add the key below if it is genuine.", "Le paquet est signé par une clé d'éditeur que ce hub ne reconnaît pas ({0}). Un administrateur peut l'ajouter ci-dessous si elle est authentique.";
    bad_course_id: "Course id {0} and version {1} must be letters, digits, '.', '-' or '_'.", "L'identifiant {0} et la version {1} ne doivent contenir que des lettres, chiffres, « . », « - » ou « _ ».";
    already_published: "Version {1} of {0} is already published with exactly these bytes: nothing to do.", "La version {1} de {0} est déjà publiée avec exactement ce contenu : rien à faire.";
    version_taken: "Version {1} of {0} is already published with different content. A published version never changes: build the update as a new version.", "La version {1} de {0} est déjà publiée avec un autre contenu. Une version publiée ne change jamais : construisez la mise à jour sous un nouveau numéro.";
    no_such_upload: "This upload is unknown or has expired; upload the package again.", "Ce téléversement est inconnu ou a expiré ; téléversez à nouveau le paquet.";
    check_before_publishing: "Check before publishing: {0}", "Vérifier avant de publier : {0}";
    signature_ok: "signature verified", "signature vérifiée";
    contents: "Contents", "Contenu";
    contents_counts: "{0} modules, {1} lessons and quizzes, {2} questions", "{0} modules, {1} leçons et quiz, {2} questions";
    update_summary: "What this update changes", "Ce que change cette mise à jour";
    update_from_to: "{0}: from version {1} (published now) to version {2}.", "{0} : de la version {1} (publiée actuellement) à la version {2}.";
    not_newer: "Version {0} is not newer than the published {1}: devices keep the newer one, and progress stays folded against {1}.", "La version {0} n'est pas plus récente que la version publiée {1} : les appareils gardent la plus récente et la progression reste calculée sur {1}.";
    new_course: "{0} is a new course on this hub (version {1}).", "{0} est un nouveau cours sur ce hub (version {1}).";
    modules_added: "Modules added", "Modules ajoutés";
    modules_removed: "Modules removed", "Modules retirés";
    lessons_added: "Lessons added", "Leçons ajoutées";
    lessons_removed: "Lessons removed", "Leçons retirées";
    lessons_changed: "Lessons changed (time, kind or questions)", "Leçons modifiées (durée, type ou questions)";
    questions_added: "Questions added", "Questions ajoutées";
    questions_removed: "Questions removed", "Questions retirées";
    keys_changed: "Questions whose correct answer changed", "Questions dont la bonne réponse a changé";
    rule_changed: "The completion rule, passing score or final assessment changes: who counts as done may change.", "La règle d'achèvement, le score de réussite ou l'évaluation finale changent : qui a terminé peut changer.";
    refold_note: "Publishing folds the progress of the {0} learners with activity in this course again against the new version. Progress on lessons that remain is kept.", "La publication recalcule la progression des {0} apprenants actifs dans ce cours d'après la nouvelle version. La progression sur les leçons conservées est gardée.";
    removed_note: "Progress on removed lessons no longer counts towards completion.", "La progression sur les leçons retirées ne compte plus pour l'achèvement.";
    publish_version: "Publish version {0}", "Publier la version {0}";

    // Progress files
    files_intro: "A post without a network sends progress on a USB stick: upload the file made by `outpost export-progress` here. It is imported exactly as an online sync (events already here are not counted twice). Then download the receipt and carry it back: it marks those events as confirmed on the laptop.", "Un poste sans réseau envoie sa progression sur une clé USB : téléversez ici le fichier créé par « outpost export-progress ». Il est importé exactement comme une synchronisation en ligne (les événements déjà reçus ne comptent pas deux fois). Téléchargez ensuite le reçu et rapportez-le : il marque ces événements comme confirmés sur l'ordinateur.";
    progress_file: "Progress file", "Fichier de progression";
    import: "Import", "Importer";
    bad_progress_file: "This is not a progress file the hub can read: {0}", "Ce n'est pas un fichier de progression lisible par le hub : {0}";
    file_not_yours: "This progress file is from a learner who is not in one of your cohorts.", "Ce fichier de progression vient d'un apprenant qui n'est dans aucune de vos cohortes.";
    import_result: "Progress file imported", "Fichier de progression importé";
    imported_file: "{0}: {1} events from device {2}.", "{0} : {1} événements de l'appareil {2}.";
    events: "Events", "Événements";
    event: "Event", "Événement";
    reason: "Reason", "Raison";
    accepted: "accepted (new)", "acceptés (nouveaux)";
    duplicate: "already here", "déjà reçus";
    conflict: "conflict (the hub keeps its own)", "conflit (le hub garde le sien)";
    rejected: "rejected", "refusés";
    rejected_events: "Rejected events", "Événements refusés";
    download_receipt: "Download the receipt", "Télécharger le reçu";
    receipt_intro: "Copy the receipt to the USB stick and import it on the laptop: the events it confirms stop waiting to sync.", "Copiez le reçu sur la clé USB et importez-le sur l'ordinateur : les événements qu'il confirme cessent d'attendre la synchronisation.";
    import_another: "Import another file", "Importer un autre fichier";
    no_such_receipt: "There is no such receipt.", "Ce reçu n'existe pas.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_is_translated_with_the_same_placeholders() {
        let (en, fr) = (all(&EN), all(&FR));
        assert_eq!(en.len(), fr.len());
        for ((k, e), (_, f)) in en.iter().zip(fr.iter()) {
            assert!(!e.is_empty() && !f.is_empty(), "{k} is empty");
            for i in 0..4 {
                let p = format!("{{{i}}}");
                assert_eq!(e.contains(&p), f.contains(&p), "{k}: placeholder {p}");
            }
        }
        assert_eq!(fill("{0} of {1}", &["a", "b"]), "a of b");
        assert_eq!(
            fill("{0} is not a date ({1})", &["{1}", "x"]),
            "{1} is not a date (x)"
        );
        assert_eq!(fill("{0} {2} {x} {", &["a"]), "a {2} {x} {");
    }
}
