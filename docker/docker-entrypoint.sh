#!/bin/sh
# The image's entrypoint: turns the container's environment into one `ingestor` command
# and `exec`s it, so the signals Cloud Run sends (SIGTERM on cancel or timeout) reach it.
#
#   docker run IMAGE list-types                      container arguments: `ingestor list-types`
#   docker run -e MODE=ingest -e SERVICE=garmin -e ENV=prd IMAGE
#                                                    `ingestor run --service garmin --env prd ...`
#   docker run -e MODE=fetch -e SERVICE=spotify -e DESTINATION=gs://ela-dp-prd IMAGE
#                                                    `ingestor fetch --service spotify --landing ...`
#   docker run -e MODE=status -e ENV=prd -e NOTIFY=slack://... IMAGE
#                                                    `ingestor status --env prd --json --notify ...`
#   docker run -e MODE=rebuild -e SERVICE=garmin -e ENV=prd -e DRY_RUN=true IMAGE
#                                                    `ingestor rebuild --service garmin --env prd --json --dry-run`
#
# MODE=ingest: SERVICE (comma list, required), ENV (dev or prd, required), DATA_TYPES,
#   DRY_RUN (true/false), LOG_LEVEL (any case), GCP_PROJECT_ID (BigQuery project: sets
#   --warehouse bigquery://PROJECT and --landing gs://ela-dp-ENV unless INGESTOR_WAREHOUSE /
#   INGESTOR_LANDING say otherwise; INGESTOR_BUCKET renames the bucket).
# MODE=status: ENV (required), SERVICE (default: all), LOG_LEVEL, GCP_PROJECT_ID as for ingest.
# MODE=rebuild: SERVICE (one, required), ENV (required), DATA_TYPES, DRY_RUN, LOG_LEVEL, GCP_PROJECT_ID as for
#   ingest (see docs/rebuilding.md).
# MODE=ingest and MODE=status: NOTIFY (apprise URLs; several separated by spaces or commas),
#   NOTIFY_ON (failed,rejected,stale), METRICS_PUSH (Pushgateway URL), METRICS_FILE (path).
# MODE=fetch: SERVICE (required), SCOPE (data types), DESTINATION (landing URL), DAYS, LIMIT,
#   ENV (names the default bucket), DRY_RUN, LOG_LEVEL.
# Every other INGESTOR_* variable reaches the ingestor as it is. A missing or unknown MODE,
# or a missing or malformed variable, exits 2 with a message naming it.
set -eu

EX_USAGE=2

die() {
    printf 'docker-entrypoint: %s\n' "$*" >&2
    exit "$EX_USAGE"
}

lower() {
    printf '%s' "$1" | tr '[:upper:]' '[:lower:]'
}

# true for 1/true/yes/on, false for 0/false/no/off or empty, exit 2 otherwise.
is_true() {
    case $(lower "$2") in
        1 | true | yes | on) return 0 ;;
        '' | 0 | false | no | off) return 1 ;;
        *) die "$1=$2 is not a boolean (use true or false)" ;;
    esac
}

# require NAME "$VALUE" HINT: exit 2 naming NAME when it is empty.
require() {
    [ -n "$2" ] || die "$1 is required for MODE=$mode ($3)"
}

whole_number() {
    case $2 in
        '' | *[!0-9]*) die "$1=$2 is not a whole number" ;;
    esac
}

# LOG_LEVEL in any case (the ingestor reads it from the environment too).
if [ -n "${LOG_LEVEL:-}" ]; then
    level=$(printf '%s' "$LOG_LEVEL" | tr '[:lower:]' '[:upper:]')
    case $level in
        WARN) level=WARNING ;;
        DEBUG | INFO | WARNING | ERROR | CRITICAL) ;;
        *) die "LOG_LEVEL=$LOG_LEVEL is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL (any case)" ;;
    esac
    LOG_LEVEL=$level
    export LOG_LEVEL
fi

# Container arguments: an ingestor command, as given (a leading `ingestor` is optional).
if [ "$#" -gt 0 ]; then
    if [ "$1" = ingestor ]; then
        shift
    fi
    exec ingestor "$@"
fi

mode=$(lower "${MODE:-}")
case $mode in
    ingest | status | rebuild)
        if [ "$mode" = ingest ]; then
            require SERVICE "${SERVICE:-}" "comma-separated services, e.g. garmin,spotify"
        elif [ "$mode" = rebuild ]; then
            require SERVICE "${SERVICE:-}" "the one service to rebuild, e.g. garmin"
            case $SERVICE in
                *,*) die "SERVICE=$SERVICE: MODE=rebuild takes one service" ;;
            esac
        fi
        require ENV "${ENV:-}" "dev or prd"
        case $ENV in
            dev | prd) ;;
            *) die "ENV=$ENV is not dev or prd (other environments: pass the command as container arguments, e.g. 'run --env NAME ...')" ;;
        esac
        if [ "$mode" != status ]; then
            command=run
            if [ "$mode" = rebuild ]; then
                command=rebuild
            fi
            set -- "$command" --service "$SERVICE" --env "$ENV" --json
            if [ -n "${DATA_TYPES:-}" ]; then
                set -- "$@" --data-types "$DATA_TYPES"
            fi
            if is_true DRY_RUN "${DRY_RUN:-}"; then
                set -- "$@" --dry-run
            fi
        else
            set -- status --env "$ENV" --json
            if [ -n "${SERVICE:-}" ]; then
                set -- "$@" --service "$SERVICE"
            fi
        fi
        if [ -n "${LOG_LEVEL:-}" ]; then
            set -- "$@" --log-level "$LOG_LEVEL"
        fi
        if [ -n "${GCP_PROJECT_ID:-}" ]; then
            if [ -z "${INGESTOR_WAREHOUSE:-}" ]; then
                set -- "$@" --warehouse "bigquery://$GCP_PROJECT_ID"
            fi
            if [ -z "${INGESTOR_LANDING:-}" ]; then
                set -- "$@" --landing "gs://${INGESTOR_BUCKET:-ela-dp-$ENV}"
            fi
        elif [ -n "${CLOUD_RUN_JOB:-}" ] && [ -z "${INGESTOR_WAREHOUSE:-}" ]; then
            # The embedded default (a DuckDB file in the container) would vanish with the task.
            die "GCP_PROJECT_ID (or INGESTOR_WAREHOUSE) is required in a Cloud Run job: the embedded warehouse does not outlive the task"
        fi
        if [ "$mode" = rebuild ]; then
            : # a rebuild is run by hand: no notifications nor metrics
        # Operations: notifications and metrics (see the README's Operations section).
        elif [ -n "${NOTIFY:-}" ]; then
            set -- "$@" --notify "$NOTIFY"
        fi
        if [ "$mode" != rebuild ]; then
            if [ -n "${NOTIFY_ON:-}" ]; then
                set -- "$@" --notify-on "$NOTIFY_ON"
            fi
            if [ -n "${METRICS_PUSH:-}" ]; then
                set -- "$@" --metrics-push "$METRICS_PUSH"
            fi
            if [ -n "${METRICS_FILE:-}" ]; then
                set -- "$@" --metrics-file "$METRICS_FILE"
            fi
        fi
        ;;
    fetch)
        require SERVICE "${SERVICE:-}" "the service to fetch, e.g. garmin"
        if [ -n "${CLOUD_RUN_JOB:-}" ] && [ -z "${DESTINATION:-}" ] && [ -z "${INGESTOR_LANDING:-}" ]; then
            die "DESTINATION is required in a Cloud Run job (e.g. gs://ela-dp-prd): the embedded landing zone does not outlive the task"
        fi
        set -- fetch --service "$SERVICE" --json
        if [ -n "${SCOPE:-}" ]; then
            set -- "$@" --data-types "$SCOPE"
        fi
        if [ -n "${DESTINATION:-}" ]; then
            set -- "$@" --landing "$DESTINATION"
        fi
        if [ -n "${DAYS:-}" ]; then
            whole_number DAYS "$DAYS"
            set -- "$@" --days "$DAYS"
        fi
        if [ -n "${LIMIT:-}" ]; then
            whole_number LIMIT "$LIMIT"
            set -- "$@" --limit "$LIMIT"
        fi
        if [ -n "${ENV:-}" ]; then
            set -- "$@" --env "$ENV"
        fi
        if is_true DRY_RUN "${DRY_RUN:-}"; then
            set -- "$@" --dry-run
        fi
        if [ -n "${LOG_LEVEL:-}" ]; then
            set -- "$@" --log-level "$LOG_LEVEL"
        fi
        ;;
    '')
        die "MODE is not set: set MODE=ingest, MODE=status, MODE=rebuild or MODE=fetch, or pass an ingestor command as container arguments (e.g. list-types)"
        ;;
    *)
        die "MODE=$MODE is unknown: use MODE=ingest, MODE=status, MODE=rebuild or MODE=fetch"
        ;;
esac

exec ingestor "$@"
