package org.infertilityprotocols.hapi.server;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import ca.uhn.fhir.jpa.subscription.submit.config.SubscriptionSubmitterConfig;
import ca.uhn.fhir.rest.server.RestfulServer;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

/**
 * A HAPI FHIR R4 JPA server on an in-memory H2 database, for our interoperability tests (issue
 * #16): what hospital integration teams run, reduced to what the tests use - REST + transactions,
 * Bulk Data $export (batch2) and the Clinical Reasoning module's PlanDefinition/$apply. Written the
 * way HAPI's public JPA starter wires these modules, but only those.
 *
 * <p>Port and database come from the command line, e.g. {@code --server.port=8090}.
 */
@SpringBootApplication(
    excludeName = {
      // On the classpath through HAPI (Hibernate Search, narrative templates), not used here.
      "org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchRestClientAutoConfiguration",
      "org.springframework.boot.autoconfigure.thymeleaf.ThymeleafAutoConfiguration",
    })
@Import({
  JpaR4Config.class,
  JpaServerConfig.class,
  ClinicalReasoningConfig.class,
  JpaBatch2Config.class,
  Batch2JobsConfig.class,
  SubscriptionSubmitterConfig.class,
  SubscriptionChannelConfig.class,
})
public class ReferenceServerApplication {
  public static void main(String[] args) {
    SpringApplication.run(ReferenceServerApplication.class, args);
  }

  @Bean
  public ServletRegistrationBean<RestfulServer> fhirServlet(RestfulServer restfulServer) {
    ServletRegistrationBean<RestfulServer> registration = new ServletRegistrationBean<>(restfulServer, "/fhir/*");
    registration.setLoadOnStartup(1);
    return registration;
  }
}
