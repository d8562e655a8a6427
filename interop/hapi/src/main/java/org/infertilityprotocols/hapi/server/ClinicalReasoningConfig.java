package org.infertilityprotocols.hapi.server;

import ca.uhn.fhir.cr.common.CqlThreadFactory;
import ca.uhn.fhir.cr.config.r4.ApplyOperationConfig;
import ca.uhn.fhir.cr.config.r4.CrR4Config;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.provider.IResourceProviderFactoryObserver;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.cqframework.cql.cql2elm.model.CompiledLibrary;
import org.hl7.cql.model.ModelIdentifier;
import org.hl7.elm.r1.VersionedIdentifier;
import org.opencds.cqf.cql.engine.runtime.Code;
import org.opencds.cqf.fhir.cql.EvaluationSettings;
import org.opencds.cqf.fhir.cr.measure.CareGapsProperties;
import org.opencds.cqf.fhir.cr.measure.MeasureEvaluationOptions;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;

/**
 * HAPI's Clinical Reasoning module (cqf clinical-reasoning): PlanDefinition/$apply and
 * ActivityDefinition/$apply. The settings are the module's defaults; the caches are shared by
 * the operations as the module expects.
 */
@Configuration
@Import({CrR4Config.class, ApplyOperationConfig.class})
public class ClinicalReasoningConfig {

  @Bean
  public Map<VersionedIdentifier, CompiledLibrary> globalLibraryCache() {
    return new ConcurrentHashMap<>();
  }

  @Bean
  public Map<ModelIdentifier, org.cqframework.cql.cql2elm.model.Model> globalModelCache() {
    return new ConcurrentHashMap<>();
  }

  @Bean
  public Map<String, List<Code>> globalValueSetCache() {
    return new ConcurrentHashMap<>();
  }

  @Bean
  public EvaluationSettings evaluationSettings(
      Map<VersionedIdentifier, CompiledLibrary> libraryCache,
      Map<ModelIdentifier, org.cqframework.cql.cql2elm.model.Model> modelCache,
      Map<String, List<Code>> valueSetCache) {
    EvaluationSettings settings = EvaluationSettings.getDefault();
    settings.setLibraryCache(libraryCache);
    settings.setModelCache(modelCache);
    settings.setValueSetCache(valueSetCache);
    return settings;
  }

  @Bean
  public MeasureEvaluationOptions measureEvaluationOptions(EvaluationSettings evaluationSettings) {
    MeasureEvaluationOptions options = new MeasureEvaluationOptions();
    options.setEvaluationSettings(evaluationSettings);
    return options;
  }

  @Bean
  public CareGapsProperties careGapsProperties() {
    return new CareGapsProperties();
  }

  @Primary
  @Bean
  public ExecutorService cqlExecutor() {
    return Executors.newFixedThreadPool(2, new CqlThreadFactory());
  }

  /**
   * The module adds its operation providers to the provider factory after the RESTful server is
   * built; this registers them with the server as they come.
   */
  @Bean
  public IResourceProviderFactoryObserver crProviderRegistration(
      RestfulServer server, ResourceProviderFactory providers) {
    IResourceProviderFactoryObserver observer =
        new IResourceProviderFactoryObserver() {
          @Override
          public void update(Supplier<Object> supplier) {
            Object provider = supplier == null ? null : supplier.get();
            if (provider != null) server.registerProvider(provider);
          }

          @Override
          public void remove(Supplier<Object> supplier) {
            Object provider = supplier == null ? null : supplier.get();
            if (provider != null) server.unregisterProvider(provider);
          }
        };
    providers.attach(observer);
    return observer;
  }
}
