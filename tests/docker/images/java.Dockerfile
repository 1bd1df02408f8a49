# The Java stand-in: Debian's headless JDK on the base, with Tarn's runtime client compiled in.
ARG BASE
FROM ${BASE}
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends default-jdk-headless \
    && rm -rf /var/lib/apt/lists/* /usr/share/doc /usr/share/man
COPY java/ /tmp/java-client/
RUN javac -nowarn -d /var/runtime/classes $(find /tmp/java-client -name '*.java') \
    && rm -rf /tmp/java-client
COPY java-bootstrap /var/runtime/bootstrap
