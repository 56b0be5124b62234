#!/usr/bin/env bash
# Before `pulumi preview`/`up` in GitHub Actions: is the stack committed, and are the repository's settings
# there and well-formed? One message per missing or malformed setting, naming the setting and the fix,
# instead of an authentication error three steps later.
#
#   tools/ci-preflight.sh STACK
#
# Reads (from the workflow's env): GCP_WORKLOAD_IDENTITY_PROVIDER, GCP_SERVICE_ACCOUNT, PULUMI_BACKEND_URL,
# PULUMI_SECRETS_PROVIDER (repository or environment variables) and PULUMI_ACCESS_TOKEN (a secret, only
# for Pulumi Cloud). Writes `pulumi-version` (the CLI matching requirements.txt's SDK pin) and
# `gcp-region` (the stack's gcp:region, if any) to $GITHUB_OUTPUT when that is set.
set -euo pipefail
cd "$(dirname "$0")/.."

problems=0
problem() {
    problems=$((problems + 1))
    if [[ "${GITHUB_ACTIONS:-}" == true ]]; then
        echo "::error title=$1::$2"
    else
        echo "error: $1: $2" >&2
    fi
}

if [[ $# -ne 1 ]]; then
    echo "usage: $0 STACK" >&2
    exit 2
fi
stack=$1
stack_file="Pulumi.${stack}.yaml"

if [[ ! "$stack" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then
    problem "stack" "'${stack}' is not a stack name: use letters, digits, '-', '_' or '.'"
elif [[ ! -f "$stack_file" ]]; then
    problem "stack" "${stack_file} is not in the repository: commit it, or pick one of: $(
        find . -maxdepth 1 -name 'Pulumi.*.yaml' | sed 's|^\./Pulumi\.||; s|\.yaml$||' | sort | paste -sd ' ' -
    )"
fi

wif=${GCP_WORKLOAD_IDENTITY_PROVIDER:-}
wif_shape='^projects/[0-9]+/locations/global/workloadIdentityPools/[^/]+/providers/[^/]+$'
if [[ -z "$wif" ]]; then
    problem "GCP_WORKLOAD_IDENTITY_PROVIDER" "repository variable not set: the full name of the Workload Identity Provider, projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>"
elif [[ ! "$wif" =~ $wif_shape ]]; then
    problem "GCP_WORKLOAD_IDENTITY_PROVIDER" "'${wif}' is not a provider's full name: projects/<project number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>"
fi

sa=${GCP_SERVICE_ACCOUNT:-}
if [[ -z "$sa" ]]; then
    problem "GCP_SERVICE_ACCOUNT" "repository variable not set: the email of the service account the workflow impersonates, <name>@<project>.iam.gserviceaccount.com"
elif [[ ! "$sa" =~ ^[^@[:space:]]+@[^@[:space:]]+\.gserviceaccount\.com$ ]]; then
    problem "GCP_SERVICE_ACCOUNT" "'${sa}' is not a service account email (<name>@<project>.iam.gserviceaccount.com)"
fi

backend=${PULUMI_BACKEND_URL:-}
kms=${PULUMI_SECRETS_PROVIDER:-}
if [[ -z "$backend" ]]; then
    if [[ -z "${PULUMI_ACCESS_TOKEN:-}" ]]; then
        problem "PULUMI_BACKEND_URL" "repository variable not set: the state bucket, gs://<bucket> (or, for Pulumi Cloud, set the secret PULUMI_ACCESS_TOKEN instead)"
    fi
elif [[ ! "$backend" =~ ^[a-z0-9]+://[^[:space:]]+$ ]]; then
    problem "PULUMI_BACKEND_URL" "'${backend}' is not a backend URL: gs://<bucket>[/<prefix>]"
fi

if [[ -n "$kms" && ! "$kms" =~ ^gcpkms://projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$ ]]; then
    problem "PULUMI_SECRETS_PROVIDER" "'${kms}' is not a Cloud KMS key URL: gcpkms://projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>"
fi

# A self-managed backend keeps the stack's secrets provider in the stack file; without one Pulumi asks for
# a passphrase, which CI does not have.
if [[ -n "$backend" && -f "$stack_file" ]]; then
    recorded=$(sed -n 's/^secretsprovider:[[:space:]]*//p' "$stack_file" | tr -d "\"'")
    init="pulumi login ${backend} && pulumi stack init ${stack} --secrets-provider '${kms:-gcpkms://projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>}'"
    if [[ -z "$recorded" ]]; then
        problem "secretsprovider" "${stack_file} names no secrets provider: run once \`${init}\` (or \`pulumi stack change-secrets-provider\` for an existing stack) and commit ${stack_file}"
    elif [[ -n "$kms" && "$recorded" != "$kms" ]]; then
        problem "PULUMI_SECRETS_PROVIDER" "'${kms}' differs from ${stack_file}'s secretsprovider '${recorded}': make them agree"
    fi
fi

pulumi_version=$(sed -n 's/^pulumi==\([0-9][0-9.]*\).*/\1/p' requirements.txt)
if [[ -z "$pulumi_version" ]]; then
    problem "requirements.txt" "no exact pulumi==X.Y.Z pin: the CLI version is taken from it"
fi

region=""
if [[ -f "$stack_file" ]]; then
    region=$(sed -n 's/^[[:space:]]*gcp:region:[[:space:]]*\([a-z0-9-]*\).*/\1/p' "$stack_file" | head -n 1)
fi

if ((problems > 0)); then
    echo "${problems} problem(s) to fix before Pulumi can run (docs/ci.md)" >&2
    exit 1
fi

echo "stack ${stack}: ${stack_file}; Pulumi CLI ${pulumi_version}; backend ${backend:-Pulumi Cloud}${region:+; region ${region}}"
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    {
        echo "pulumi-version=${pulumi_version}"
        echo "gcp-region=${region}"
    } >>"$GITHUB_OUTPUT"
fi
