# The API and the worker share one image; the command picks the role.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY settings ./settings
COPY gateway ./gateway
COPY workflows ./workflows
COPY activities ./activities
COPY store ./store
COPY gateway ./gateway
COPY api ./api
COPY gateway ./gateway
COPY tools ./tools
COPY examples ./examples
COPY worker.py cli.py alembic.ini ./
# Bytecode for the tree the processes run from: the workflow sandbox imports the workflow
# modules again for every workflow run, and must not compile them each time.
RUN pip install --no-cache-dir . \
    && python -m compileall -q /app \
    && useradd --system --uid 10001 reviewchain
USER reviewchain

EXPOSE 8000
CMD ["python", "worker.py"]
