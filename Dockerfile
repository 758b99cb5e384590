# The fund-ledger image: the `fund-ledger` command (API server, projector, migrations, CLI),
# installed with pip from this project's own files, run as an unprivileged user.
#
#   docker build -t fund-ledger .
#   docker run --rm fund-ledger --help
#
# docker-compose.yml runs it as four services (postgres, migrate, api, projector).

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# psycopg's binary wheel carries its own libpq; the system's serves its pure-Python fallback.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*

# Only what the package is built from (see .dockerignore): dependencies resolve from
# pyproject.toml, the fonts ship as package data of reports/.
COPY pyproject.toml README.md /src/
COPY ledger /src/ledger
COPY projections /src/projections
COPY api /src/api
COPY reports /src/reports
RUN pip install /src && rm -rf /src

RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/fund-ledger \
        --create-home --shell /usr/sbin/nologin fund-ledger
USER fund-ledger
# A writable working directory: the embedded default keeps fund-ledger.sqlite here.
WORKDIR /var/lib/fund-ledger

EXPOSE 8000
# Exec form: `fund-ledger` receives SIGTERM itself and shuts down gracefully.
ENTRYPOINT ["fund-ledger"]
CMD ["--help"]
