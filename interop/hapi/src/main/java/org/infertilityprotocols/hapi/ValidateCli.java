package org.infertilityprotocols.hapi;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.UnknownCodeSystemWarningValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The HL7 validator (HAPI's FhirInstanceValidator over the core R4 definitions shipped in
 * hapi-fhir-validation-resources-r4), offline: no terminology server, no package registry.
 *
 * <p>Usage: {@code ValidateCli --knowledge <file-list> --validate <file-list>}, each list a text file
 * with one JSON path per line. The knowledge files (our StructureDefinitions, CodeSystems and
 * ValueSets) are loaded into the validator so that our profiles and value sets are enforced; every
 * file of the second list is validated. Prints one JSON object per validated file on stdout:
 * {@code {"file", "issues": [{"severity", "location", "messageId", "message"}]}} with severities
 * information and up. The exit code is 0 whatever was found: the Node script decides (it also
 * needs the warnings), and a non-zero code means the validator itself failed.
 */
public final class ValidateCli {
  private ValidateCli() {}

  public static void main(String[] args) throws IOException {
    List<Path> knowledge = new ArrayList<>();
    List<Path> toValidate = new ArrayList<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      List<Path> target =
          switch (args[i]) {
            case "--knowledge" -> knowledge;
            case "--validate" -> toValidate;
            default -> throw new IllegalArgumentException("unknown option " + args[i]);
          };
      for (String line : Files.readAllLines(Path.of(args[i + 1]), StandardCharsets.UTF_8)) {
        if (!line.isBlank()) target.add(Path.of(line.trim()));
      }
    }

    FhirContext ctx = FhirContext.forR4();
    PrePopulatedValidationSupport ours = new PrePopulatedValidationSupport(ctx);
    for (Path file : knowledge) {
      IBaseResource resource = ctx.newJsonParser().parseResource(Files.readString(file));
      switch (resource.fhirType()) {
        case "StructureDefinition" -> ours.addStructureDefinition(resource);
        case "CodeSystem" -> ours.addCodeSystem(resource);
        case "ValueSet" -> ours.addValueSet(resource);
        default -> {
          // PlanDefinitions and ActivityDefinitions are validated, not used as definitions.
        }
      }
    }
    UnknownCodeSystemWarningValidationSupport unknownCodeSystems =
        new UnknownCodeSystemWarningValidationSupport(ctx);
    // SNOMED CT, LOINC, ICD-10 and the CPG code systems cannot be had offline: a code in one of
    // them is reported as a warning (not checked), never silently accepted.
    unknownCodeSystems.setNonExistentCodeSystemSeverity(IValidationSupport.IssueSeverity.WARNING);
    ValidationSupportChain chain =
        new ValidationSupportChain(
            new DefaultProfileValidationSupport(ctx),
            ours,
            new CommonCodeSystemsTerminologyService(ctx),
            new InMemoryTerminologyServerValidationSupport(ctx),
            new SnapshotGeneratingValidationSupport(ctx),
            unknownCodeSystems);
    FhirInstanceValidator instanceValidator = new FhirInstanceValidator(chain);
    // A profile the validator cannot have offline (HL7 CPG) is a warning, which the script lists
    // under "not checked offline"; an error would fail every artifact that claims one.
    instanceValidator.setErrorForUnknownProfiles(false);
    FhirValidator validator = ctx.newValidator();
    validator.registerValidatorModule(instanceValidator);

    ObjectMapper json = new ObjectMapper();
    for (Path file : toValidate) {
      ObjectNode line = json.createObjectNode();
      line.put("file", file.toString());
      ArrayNode issues = line.putArray("issues");
      ValidationResult result = validator.validateWithResult(Files.readString(file));
      for (SingleValidationMessage message : result.getMessages()) {
        if (message.getSeverity() == null
            || message.getSeverity().ordinal() < ResultSeverityEnum.INFORMATION.ordinal()) continue;
        ObjectNode issue = issues.addObject();
        issue.put("severity", message.getSeverity().getCode());
        issue.put("location", message.getLocationString());
        issue.put("messageId", message.getMessageId());
        issue.put("message", message.getMessage());
      }
      System.out.println(json.writeValueAsString(line));
    }
  }
}
