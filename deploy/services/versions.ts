/**
 * Every version `logflow services` runs, pinned in this one place. The Maven poms take these as
 * `-D` properties, docker-compose.yml mirrors them (keep the two in step), and `services status`
 * prints them.
 */
export const VERSIONS = {
  /** org.apache.kafka:kafka_2.13 — the broker's classpath is this artifact's runtime dependencies. */
  kafka: '4.1.1',
  /** Log4j 2 backend for Kafka's SLF4J calls (log4j-slf4j2-impl + log4j-core). */
  log4j: '2.25.3',
  /**
   * kafka_2.13 declares slf4j-api 1.7.36, which cannot see an SLF4J 2 provider and would fall back
   * to the no-op logger; 2.0.x reads providers through ServiceLoader and still serves 1.x callers.
   */
  slf4j: '2.0.17',
  /** org.elasticsearch.distribution.integ-test-zip:elasticsearch:<v>:zip — same major as the npm client (8). */
  elasticsearch: '8.19.21',
  /** io.apicurio:apicurio-registry-app:<v>:tar.gz:all — Confluent API under /apis/ccompat/v7. */
  apicurio: '3.3.3',
} as const;

/** The lowest Java feature release each JVM service needs; the lowest installed JDK that satisfies it is used. */
export const JAVA_MIN = {
  kafka: 17,
  elasticsearch: 17,
  // Apicurio 3.3 is compiled for Java 21 (class file 65); on this machine kind that is the Temurin JDK.
  apicurio: 21,
} as const;

/** Heap sizes: modest, the machine has 2 cores and is shared with the tests. */
export const HEAP = {
  kafka: '512m',
  elasticsearch: '512m',
  apicurio: '384m',
} as const;
