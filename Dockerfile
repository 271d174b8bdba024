# One image for every role of a deployment (see docker-compose.yml): migrate, scheduler, worker, web,
# and the embedded `diplowatch run` when started without a command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Only what the package needs (tests, benchmarks and the mirror stay out: see .dockerignore).
COPY pyproject.toml README.md ./
COPY diplowatch/ diplowatch/
COPY crawler/ crawler/
COPY workers/ workers/
COPY store/ store/
COPY web/ web/
RUN pip install . && rm -rf build *.egg-info

# The seed files, so `diplowatch seed` works in the container too.
COPY seeds/ seeds/

RUN useradd --create-home --uid 10001 diplowatch && mkdir -p var config && chown diplowatch var config
USER diplowatch

CMD ["diplowatch", "run"]
