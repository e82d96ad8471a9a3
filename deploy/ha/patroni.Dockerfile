# Patroni + PostgreSQL 15 from Debian packages (the same ones deploy/ha/localstack.py runs).
# Node-specific settings come from PATRONI_* environment variables (compose.yaml).
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 patroni python3-etcd ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data /etc/patroni \
    && chown -R postgres:postgres /var/lib/postgresql /etc/patroni
COPY patroni.yml post-bootstrap.sh /etc/patroni/
USER postgres
EXPOSE 5432 8008
CMD ["patroni", "/etc/patroni/patroni.yml"]
